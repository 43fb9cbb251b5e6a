"""The contact centre: cases from every channel attached to the right customer, their messages
after the privacy firewall, the queue, and the remedies staff give (see docs/cases.md)."""
