"""Views: `public` (no login: search, detail, school catalog) and `manage` (staff work)."""
