"""Case files: the documented YAML/JSON format a conference is imported from and exported to."""

from docgen.casefile.loader import load_case_file, parse_case_text
from docgen.casefile.validation import validate_case

__all__ = ["load_case_file", "parse_case_text", "validate_case"]
