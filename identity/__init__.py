"""Credentials, bearer tokens, the permission policy and the FastAPI auth dependencies."""
