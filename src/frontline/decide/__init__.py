"""frontline.decide."""
