"""Invoice documents — presentation only: the invoice as a person reads it, in HTML and PDF.

`view.invoice_document` turns an invoice into the strings a document shows (amounts, dates and
percents formatted with Babel for the invoice's currency and locale); `html` and `pdf` lay them
out. No business rule lives here: every figure comes from the invoice as stored.
"""
