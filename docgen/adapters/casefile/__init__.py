"""Case files: the documented YAML/JSON format a conference is imported from and exported to."""

from docgen.adapters.casefile.loader import load_case_file, parse_case_text
from docgen.adapters.casefile.validation import ValidatedCase, validate_case

__all__ = ["ValidatedCase", "load_case_file", "parse_case_text", "validate_case"]
