#!/usr/bin/env bash
# Media redaction benchmark (issue #15): a synthetic 720p video (ffmpeg testsrc2 + a sine tone, a drawn synthetic
# ID number) redacted by `amanat redact-media` with two rectangles and five muted intervals, timed beside a plain
# `ffmpeg -i IN -c:v libx264 -preset veryfast OUT` re-encode of the same file in the same run, with the peak RSS of
# each (/usr/bin/time -v). Several lengths show whether memory stays flat in the video's length.
# Target: >= 4x real time on 2 cores. amanat runs with its default x264 preset (ultrafast) and with
# --preset veryfast (the plain re-encode's preset).
# Usage: Benchmarks/media/run.sh [--seconds 60,600]      (AMANAT=path/to/amanat skips the release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
lengths="60,600"
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) lengths="$2"; shift 2 ;;
        *) echo "usage: $0 [--seconds 60,600]" >&2; exit 64 ;;
    esac
done
for tool in ffmpeg ffprobe; do
    command -v "$tool" >/dev/null || { echo "install $tool first: apt-get install ffmpeg" >&2; exit 69; }
done
[ -x /usr/bin/time ] || { echo "install GNU time first: apt-get install time" >&2; exit 69; }
amanat="${AMANAT:-}"
if [ -z "$amanat" ]; then
    swift build -c release --product amanat >/dev/null
    amanat="$(swift build -c release --show-bin-path)/amanat"
fi
work=$(mktemp -d /tmp/amanat-media-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.34" -> seconds; "Maximum resident set size (kbytes): N" -> MiB
wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

echo "cores: $(nproc)  $(ffmpeg -hide_banner -version | head -1 | cut -d' ' -f1-3)"
printf '%-8s %-38s %9s %9s %9s\n' length command wall_s speed peak_MiB
IFS=',' read -r -a list <<< "$lengths"
for seconds in "${list[@]}"; do
    input="$work/in-$seconds.mp4"
    # Synthetic only: a test pattern, a tone, a made-up ID number drawn where a card would be held.
    ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i "testsrc2=s=1280x720:r=25:d=$seconds" -f lavfi -i "sine=frequency=440:sample_rate=48000:d=$seconds" \
        -vf "drawtext=text='ID 11010519491231002X':x=80:y=560:fontsize=48:fontcolor=white:box=1:boxcolor=blue" \
        -c:v libx264 -preset ultrafast -crf 23 -c:a aac -b:a 128k "$input"
    # Two rectangles (the card for the middle third, a face the whole time) and five muted intervals.
    awk -v d="$seconds" 'BEGIN {
        printf "{\"amanat_media_redaction\": 1, \"rectangles\": ["
        printf "{\"x\": 60, \"y\": 540, \"width\": 640, \"height\": 100, \"start\": %.3f, \"end\": %.3f},", d / 3, 2 * d / 3
        printf "{\"x\": 900, \"y\": 100, \"width\": 256, \"height\": 256, \"style\": \"pixelate\"}], \"intervals\": ["
        for (i = 0; i < 5; i++) printf "%s{\"start\": %.3f, \"end\": %.3f}", (i ? ", " : ""), (i + 0.5) * d / 5, (i + 0.5) * d / 5 + (d < 40 ? d / 20 : 2)
        printf "]}\n" }' > "$work/spec.json"
    /usr/bin/time -v ffmpeg -hide_banner -loglevel error -nostdin -y -i "$input" -c:v libx264 -preset veryfast \
        "$work/plain.mp4" 2> "$work/plain.time"
    for preset in veryfast ultrafast; do
        /usr/bin/time -v "$amanat" redact-media "$input" --spec "$work/spec.json" -o "$work/redacted.mp4" \
            --preset "$preset" > /dev/null 2> "$work/redact-$preset.time" || { cat "$work/redact-$preset.time" >&2; exit 1; }
    done
    for run in plain redact-veryfast redact-ultrafast; do
        w=$(wall "$work/$run.time")
        case "$run" in
            plain) label="ffmpeg -c:v libx264 -preset veryfast" ;;
            *) label="amanat redact-media --preset ${run#redact-}" ;;
        esac
        printf '%-8s %-38s %9.1f %8.1fx %9s\n' "${seconds}s" "$label" "$w" "$(echo "$seconds / $w" | bc -l)" \
            "$(rss "$work/$run.time")"
    done
    rm -f "$input" "$work/plain.mp4" "$work/redacted.mp4"
done
