"""How the tests and the screenshot script start the system Chromium (Debian package).

Never a downloaded browser: `playwright install` cannot run on a closed network. The flags keep
Chromium from reaching out at start-up, which a closed network refuses, many times over.
"""

PATH = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
