"""`clapsearch serve`: a local web page and JSON API over clapsearch.api (see app.py)."""
