/* clang_shuffle.h - force-included (-include) when build.sh compiles the NER
 * model with clang: GCC's __builtin_shuffle (ner_model.c) in clang terms,
 * lane by lane, for the 4-lane vectors it is used on. Fuzzing build only;
 * the product is built with gcc. */
#define NAHR__SHUF2(v, m)                                                                          \
    ({                                                                                             \
        __typeof__(v) r_;                                                                          \
        for (int i_ = 0; i_ < 4; i_++)                                                             \
            r_[i_] = (v)[(m)[i_] & 3];                                                             \
        r_;                                                                                        \
    })
#define NAHR__SHUF3(a, b, m)                                                                       \
    ({                                                                                             \
        __typeof__(a) r_;                                                                          \
        for (int i_ = 0; i_ < 4; i_++)                                                             \
            r_[i_] = ((m)[i_] & 4) ? (b)[(m)[i_] & 3] : (a)[(m)[i_] & 3];                          \
        r_;                                                                                        \
    })
#define NAHR__SHUF_PICK(x1, x2, x3, name, ...) name
#define __builtin_shuffle(...) NAHR__SHUF_PICK(__VA_ARGS__, NAHR__SHUF3, NAHR__SHUF2, none)(__VA_ARGS__)
