"""The composition root: settings, bootstrap(), the FastAPI app factory and the CLI."""
