"""Customer profiles and what readers see of them (profiles). Finding customers is
goodwill.customer_search."""
