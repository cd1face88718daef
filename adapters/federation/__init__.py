"""Federation: one state's Readmit node exchanging signed, receipted messages with its peers."""
