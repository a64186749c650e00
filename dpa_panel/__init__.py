"""DPA Panel: personal-data protection panel for a membership organisation."""
