"""The kit every calligraphy node is made from (see docs/ARCHITECTURE.md)."""
