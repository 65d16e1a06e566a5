"""Per-item analysers of the fast pass: hashing, type sniffing, images, EXIF, thumbnails."""
