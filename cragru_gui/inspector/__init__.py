"""One person at a time: the per-user inspector, what its marks mean, who was affected, and the
map of users or items."""
