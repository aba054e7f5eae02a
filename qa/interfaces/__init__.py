"""Where people ask: `qa shell`, `qa serve` (HTTP API and search page) and `qa mcp`.

Each is a thin layer over :class:`qa.interfaces.service.QAService`, the same core call that
`qa ask --json` makes. Nothing here is imported by `qa --help` or `qa ask`.
"""
