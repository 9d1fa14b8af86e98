"""Which events a filter keeps: free text, regular expressions, pickers and the field language."""
