"""The HTTP surface: webhook receivers, health and metrics (framework-free ASGI, served by uvicorn)."""
