"""The demo business: two years of a small shop's customers, generated and sent through intake."""
