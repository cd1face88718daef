"""Identity checks for readmission cases: MRZ, Ukraine's UNZR, names across scripts."""
