"""Keys and ciphers of encrypted phone data: iOS backups opened with the examiner's
password, WhatsApp's encrypted local backups opened with the app's key.

Only decryption lives here (plain functions over bytes and streams); which item needs
it, and what is recorded when it fails, is the sources' and parsers' business.
"""
