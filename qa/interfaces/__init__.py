"""Where people ask: `qa shell`, `qa serve` (HTTP API and search page) and `qa mcp`.

Each is a thin layer over :class:`qa.interfaces.service.QAService`, the same core call that
`qa ask --json` makes. Of these modules `qa --help` and `qa ask` import only cli_commands (the
three commands' options), which loads each command's framework when it runs.
"""
