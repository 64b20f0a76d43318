# Shared helpers for the project's scripts. Source it; do not run it.
# Everything lives inside the project: the virtualenv in .venv/, emulator state in .emulator/.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
EMU_DIR="$ROOT/.emulator"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_venv REQUIREMENTS_FILE...: create .venv if needed and install the pinned requirements.
# A stamp per requirements file (its checksum) makes a second call free.
ensure_venv() {
  local py="${PYTHON:-python3}"
  command -v "$py" >/dev/null || die "python3 is needed to install the pinned tools (moto, ...)"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv $VENV"
    "$py" -m venv "$VENV" || die "could not create $VENV (is python3-venv installed?)"
  fi
  local req stamp sum
  for req in "$@"; do
    sum="$(sha256sum "$req" | cut -c1-16)"
    stamp="$VENV/.installed-$(basename "$req")-$sum"
    if [ ! -f "$stamp" ]; then
      log "installing $(basename "$req") into .venv"
      "$VENV/bin/pip" install --disable-pip-version-check -q -r "$req" || die "pip install -r $req failed"
      rm -f "$VENV"/.installed-"$(basename "$req")"-*
      touch "$stamp"
    fi
  done
}

# free_port: print a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
  "${PYTHON:-python3}" - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# readme_section NAME FILE: replace what lies between the README's lines
# `<!-- NAME:begin -->` and `<!-- NAME:end -->` with the contents of FILE (the markers stay).
readme_section() {
  local name="$1" file="$2"
  "${PYTHON:-python3}" - "$ROOT/README.md" "$name" "$file" <<'PY'
import sys
readme, name, path = sys.argv[1:4]
text = open(readme).read()
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
if begin not in text or end not in text:
    sys.exit(f"README.md has no {begin} ... {end} section")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
body = open(path).read().strip("\n")
open(readme, "w").write(f"{head}{begin}\n{body}\n{end}{tail}")
PY
}
