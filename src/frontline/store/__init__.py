"""frontline.store."""
