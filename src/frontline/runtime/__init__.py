"""frontline.runtime."""
