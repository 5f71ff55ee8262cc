"""The write side: command models, the desk application, its routes."""
