"""The phone-facing REST API: thin views that parse, call one domain service and render."""
