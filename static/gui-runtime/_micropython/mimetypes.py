"""`mimetypes` for MicroPython: the types Media names most often, by file extension."""

_TYPES = {
    ".csv": "text/csv",
    ".gif": "image/gif",
    ".htm": "text/html",
    ".html": "text/html",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".json": "application/json",
    ".md": "text/markdown",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".wav": "audio/x-wav",
    ".webp": "image/webp",
    ".xml": "text/xml",
    ".zip": "application/zip",
}


def guess_type(url, strict=True):
    name = str(url).rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return (_TYPES.get(name[dot:]) if dot >= 0 else None), None


def guess_extension(content_type, strict=True):
    for extension, known in _TYPES.items():
        if known == content_type:
            return extension
    return None
