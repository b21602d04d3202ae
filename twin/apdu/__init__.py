"""The card's ISO/IEC 7816-4 face: APDU codec, file layouts, chip session and reader sequences."""
