"""SERS's date, time and number formats per language (FORMAT_MODULE_PATH), read before
Django's own. One date style and one money style per language: sers/formatting.py and the
`sers_date`, `sers_datetime` and `money` template filters use them, and so does any
`|date` left in a template (the short formats equal the long ones)."""
