"""frontline.connectors.local."""
