"""Personal campaigns measured by uplift: the contact log and frequency caps, audiences with a
control group, sandboxed templates, delivery, single-use coupons and results against control."""
