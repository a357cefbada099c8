"""Goodwill coupons: coupon series and allocating a code never issued twice (series), adding codes
to a pool (pools), and granting a coupon to a customer, at once or after approval (grants)."""
