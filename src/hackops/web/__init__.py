"""Server-rendered pages. They call the same services as the API."""
