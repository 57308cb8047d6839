"""frontline.flows."""
