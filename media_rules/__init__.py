"""Photo intake and authenticity: EXIF, coordinate systems, rules, verdicts, thumbnails, hashes.

Built in issue [F4].
"""
