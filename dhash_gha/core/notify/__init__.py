"""Notifications as data: what a notification is, who is paged, and how each channel renders it."""
