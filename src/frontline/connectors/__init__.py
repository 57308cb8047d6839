"""frontline.connectors."""
