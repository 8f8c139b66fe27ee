# Sourced by the harnesses' build.sh: fuzz_build AREA OUT [clang arguments...]
# compiles AREA/fuzz_AREA.c with clang (fuzzer + ASan + UBSan) together with
# the core sources and the extra arguments (the plugin's sources and include
# dirs), all instrumented so the fuzzer sees their coverage; no build
# directory is needed. One list of core sources for every harness.
fuzz_build() {
    area=$1 out=$2
    shift 2
    fz=$(cd "$(dirname "$0")/.." && pwd)
    root=$(cd "$fz/../.." && pwd)
    core=$root/core/src
    clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE \
        -DNAHR_LIBFUZZER -DNAHR_PLUGIN_INSTALL_FULLDIR='"/nonexistent"' -I"$root/core/include" -I"$core" \
        "$@" "$fz/$area/fuzz_$area.c" \
        "$core"/common.c "$core"/doc.c "$core"/encoding.c "$core"/json.c "$core"/jsonparse.c "$core"/text.c \
        "$core"/token.c "$core"/config.c "$core"/config_text.c "$core"/loader.c "$core"/reader.c "$core"/pipeline.c "$core"/metrics.c \
        "$core"/source_nats_stub.c $(pkg-config --cflags --libs libconfig zlib libzstd) -lpthread -ldl -lm -o "$out"
    echo "built $out"
}
