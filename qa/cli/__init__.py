"""Command-line interface: the Typer app, rendering and progress."""
