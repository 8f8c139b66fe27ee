/* lru4.h - the least-recently-used order of a 4-way cache set in one byte.
 *
 * Way j's age is bits 2j..2j+1 of the byte: 0 most recently used .. 3
 * least. The entities plugin's token-fact cache and the NER token table
 * both keep their sets this way. Touching a way is a read of a 1 KB table
 * made at compile time from the definition (lru4_touch_plain, which the
 * tests compare it with for every byte and way).
 */
#ifndef NAHR_ENT_LRU4_H
#define NAHR_ENT_LRU4_H

#include <stdint.h>

#define LRU4_INIT 0xE4u /* ways 0, 1, 2, 3 aged 0, 1, 2, 3 */

/* The ages after using way k: the ways younger than k age by one, k becomes
 * the youngest. */
static inline uint8_t lru4_touch_plain(unsigned ages, unsigned k)
{
    unsigned a = (ages >> (2 * k)) & 3u, out = 0;
    if (a == 0)
        return (uint8_t)ages;
    for (unsigned j = 0; j < 4; j++) {
        unsigned aj = (ages >> (2 * j)) & 3u;
        aj = j == k ? 0 : aj + (aj < a);
        out |= aj << (2 * j);
    }
    return (uint8_t)out;
}

/* The same as constant expressions, for the table. */
#define LRU4_AGE(a, j) (((a) >> (2 * (j))) & 3u)
#define LRU4_AJ(a, k, j) ((j) == (k) ? 0u : LRU4_AGE(a, j) + (LRU4_AGE(a, j) < LRU4_AGE(a, k)))
#define LRU4_T(a, k)                                                                                          \
    (LRU4_AGE(a, k) == 0 ? (a) : LRU4_AJ(a, k, 0) | LRU4_AJ(a, k, 1) << 2 | LRU4_AJ(a, k, 2) << 4 |          \
                                     LRU4_AJ(a, k, 3) << 6)
#define LRU4_ROW(a) {LRU4_T(a, 0), LRU4_T(a, 1), LRU4_T(a, 2), LRU4_T(a, 3)}
#define LRU4_R4(a) LRU4_ROW(a), LRU4_ROW((a) + 1), LRU4_ROW((a) + 2), LRU4_ROW((a) + 3)
#define LRU4_R16(a) LRU4_R4(a), LRU4_R4((a) + 4), LRU4_R4((a) + 8), LRU4_R4((a) + 12)
#define LRU4_R64(a) LRU4_R16(a), LRU4_R16((a) + 16), LRU4_R16((a) + 32), LRU4_R16((a) + 48)

static const uint8_t lru4_touch_tab[256][4] = {LRU4_R64(0u), LRU4_R64(64u), LRU4_R64(128u), LRU4_R64(192u)};

static inline uint8_t lru4_touch(uint8_t ages, unsigned k) { return lru4_touch_tab[ages][k & 3u]; }

/* The least recently used way (age 3). */
static inline unsigned lru4_oldest(unsigned ages)
{
    for (unsigned j = 0; j < 3; j++)
        if (((ages >> (2 * j)) & 3u) == 3u)
            return j;
    return 3;
}

#endif
