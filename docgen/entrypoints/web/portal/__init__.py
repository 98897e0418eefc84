"""The recipient portal: families and professionals without a certificate open their documents here."""
