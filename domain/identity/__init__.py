"""Identity checks for readmission cases, pure and clock-free.

`mrz` parses ICAO Doc 9303 machine-readable zones and verifies every check digit, `unzr` validates
Ukraine's demographic register number, `names` scores names across scripts and transliterations.
"""
