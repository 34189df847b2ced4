/*
 * Typed C kernel for complaints.polarity: the same computation as _pyport.py (an exact port of
 * snownlp 0.12.3's SnowNLP(text).sentiments), over int-indexed tables built once at load.
 *
 * Exactness rules kept here, each mirroring snownlp's Python:
 *   - every float is a C double and every expression keeps Python's operation order:
 *       uni = l1 * ((double)count / total);  bi = (l2 * count) / c;  tri = (l3 * count) / c;
 *       sum = uni + bi + tri;  log_prob = sum == 0 ? -inf : log(sum)
 *     (compiled with -ffp-contract=off so no fused multiply-add changes a rounding);
 *   - log/exp are the same libm functions CPython's math module calls;
 *   - states are visited in status order, then in the previous stage's insertion order, with a
 *     strict '>' for replacement and "first maximum wins" at the end;
 *   - an unseen character overwrites states without comparing (snownlp's not_found branch);
 *   - the Bayes step adds the per-word terms in word order; those terms are precomputed in
 *     Python with snownlp's own expression (log(float(count) / total)), which is the same value.
 *
 * Token ids: 0 is ('', 'BOS'); a character c in U+4E00..U+9FA5 with status index t is
 * (c - 0x4E00 + 1) * 4 + t. No other token can be queried, because only runs of those
 * characters reach the segmenter, so table entries with other tokens are dropped at load.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#define CJK_FIRST 0x4E00
#define CJK_LAST 0x9FA5
#define N_TAGS 4
#define TAG_B 0
#define TAG_M 1
#define TAG_E 2
#define TAG_S 3
#define TAG_BOS 4 /* pseudo tag of the sentence-start token inside a state */
#define TOK_BOS 0u
#define N_TOKENS ((uint32_t)(CJK_LAST - CJK_FIRST + 2) * N_TAGS)
#define TOK_BITS 17 /* N_TOKENS < 2^17 */
#define MAX_STATES 16
#define MAX_CLASSES 8
#define STACK_RUN 512 /* runs up to this length need no heap scratch */

static inline int
is_cjk(Py_UCS4 c)
{
    return c >= CJK_FIRST && c <= CJK_LAST;
}

static inline uint32_t
char_base(Py_UCS4 c)
{
    return (uint32_t)(c - CJK_FIRST + 1) * N_TAGS;
}

/* ---------------------------------------------------------------- count tables */

/* Open addressing, linear probing; a stored key is packed key + 1 so 0 means empty. */
typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    uint64_t mask;
    int shift;
    uint32_t none; /* snownlp's NormalProb.none: the count of a missing key */
} CountTable;

/* The slot of `key` in an open-addressed key array: where it is stored, or the empty slot
 * where it would go (both table kinds below). */
static inline uint64_t
probe(const uint64_t *keys, uint64_t mask, int shift, uint64_t key)
{
    uint64_t stored = key + 1;
    uint64_t i = (key * 0x9E3779B97F4A7C15ULL) >> shift;
    while (keys[i] != 0 && keys[i] != stored) {
        i = (i + 1) & mask;
    }
    return i;
}

/* Slots for `n_entries` (a power of two, at most half full); `*bits` is its log2. */
static uint64_t
capacity_for(Py_ssize_t n_entries, int *bits)
{
    uint64_t cap = 16;
    *bits = 4;
    while (cap < (uint64_t)n_entries * 2 + 1) {
        cap <<= 1;
        (*bits)++;
    }
    return cap;
}

static inline uint32_t
table_get(const CountTable *t, uint64_t key)
{
    uint64_t i = probe(t->keys, t->mask, t->shift, key);
    return t->keys[i] != 0 ? t->vals[i] : t->none;
}

static int
table_alloc(CountTable *t, Py_ssize_t n_entries, uint32_t none)
{
    int bits;
    uint64_t cap = capacity_for(n_entries, &bits);
    t->keys = PyMem_Calloc((size_t)cap, sizeof(uint64_t));
    t->vals = PyMem_Calloc((size_t)cap, sizeof(uint32_t));
    if (t->keys == NULL || t->vals == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->mask = cap - 1;
    t->shift = 64 - bits;
    t->none = none;
    return 0;
}

static void
table_free(CountTable *t)
{
    PyMem_Free(t->keys);
    PyMem_Free(t->vals);
    t->keys = NULL;
    t->vals = NULL;
}

static void
table_put(CountTable *t, uint64_t key, uint32_t val)
{
    uint64_t i = probe(t->keys, t->mask, t->shift, key);
    t->keys[i] = key + 1;
    t->vals[i] = val;
}

/* Per key (packed characters), a bit set of the tag combinations some key of a count table
 * has with those characters: open addressing as above, 64-bit values, 0 for a missing key. */
typedef struct {
    uint64_t *keys;
    uint64_t *vals;
    uint64_t mask;
    int shift;
} MaskTable;

static inline uint64_t
mask_get(const MaskTable *t, uint64_t key)
{
    uint64_t i = probe(t->keys, t->mask, t->shift, key);
    return t->keys[i] != 0 ? t->vals[i] : 0;
}

static int
mask_alloc(MaskTable *t, Py_ssize_t n_entries)
{
    int bits;
    uint64_t cap = capacity_for(n_entries, &bits);
    t->keys = PyMem_Calloc((size_t)cap, sizeof(uint64_t));
    t->vals = PyMem_Calloc((size_t)cap, sizeof(uint64_t));
    if (t->keys == NULL || t->vals == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->mask = cap - 1;
    t->shift = 64 - bits;
    return 0;
}

static void
mask_free(MaskTable *t)
{
    PyMem_Free(t->keys);
    PyMem_Free(t->vals);
    t->keys = NULL;
    t->vals = NULL;
}

static void
mask_or(MaskTable *t, uint64_t key, uint64_t bits)
{
    uint64_t i = probe(t->keys, t->mask, t->shift, key);
    t->keys[i] = key + 1;
    t->vals[i] |= bits;
}

static inline uint64_t
key2(uint32_t a, uint32_t b)
{
    return ((uint64_t)a << TOK_BITS) | b;
}

static inline uint64_t
key3(uint32_t a, uint32_t b, uint32_t c)
{
    return ((uint64_t)a << (2 * TOK_BITS)) | ((uint64_t)b << TOK_BITS) | c;
}

/* ---------------------------------------------------------------- the model object */

typedef struct {
    PyObject_HEAD
    double l1, l2, l3, uni_total;
    uint32_t *uni; /* N_TOKENS counts, indexed by token id */
    CountTable bi, tri;
    /* per character triple (tok >> 2 each) of the keys of tri, the bit set of their tag
     * combinations (bit (tok1 & 3) * 16 + (tok2 & 3) * 4 + (tok3 & 3)); per character pair
     * of the keys of bi, the same with bit (tok1 & 3) * 4 + (tok2 & 3). A token is its
     * character (0 for the sentence start) times 4 plus its tag (0 for the start). */
    MaskTable tri_chars;
    MaskTable bi_chars;
    PyObject *lexicon; /* dict: word -> tuple of per-class log terms, or None for a stop word */
    int n_classes;
    int pos_class; /* index of the 'pos' label, -1 if absent */
    double prior[MAX_CLASSES];
    double unknown[MAX_CLASSES];
} Model;

/* --- the three terms of CharacterBasedGenerativeModel.log_prob, shared by the Viterbi loop
 * and the test hook Model.log_prob so that both run the very same arithmetic */

/* uni = l1 * uni.freq(s3) */
static inline double
uni_term(const Model *m, uint32_t tok3)
{
    return m->l1 * ((double)m->uni[tok3] / m->uni_total);
}

/* bi = div(l2 * bi[(s2, s3)], uni[s2]) where c2 = uni[s2] */
static inline double
bi_term(const Model *m, uint32_t tok2, uint32_t c2, uint32_t tok3)
{
    return c2 == 0 ? 0.0 : (m->l2 * (double)table_get(&m->bi, key2(tok2, tok3))) / (double)c2;
}

/* tri = div(l3 * tri[(s1, s2, s3)], bi[(s1, s2)]) where c12 = bi[(s1, s2)] */
static inline double
tri_term(const Model *m, uint32_t tok1, uint32_t tok2, uint32_t c12, uint32_t tok3)
{
    return c12 == 0 ? 0.0
                    : (m->l3 * (double)table_get(&m->tri, key3(tok1, tok2, tok3))) / (double)c12;
}

/* bi_term where the caller knows that no key of bi has the characters of (tok2, tok3) */
static inline double
bi_term_unseen(const Model *m, uint32_t c2)
{
    return c2 == 0 ? 0.0 : (m->l2 * (double)m->bi.none) / (double)c2;
}

/* tri_term where the caller knows that no key of tri has the characters of (tok1, tok2, tok3):
 * the count is tri's `none`, without a look-up in the (large, cache-missing) table */
static inline double
tri_term_unseen(const Model *m, uint32_t c12)
{
    return c12 == 0 ? 0.0 : (m->l3 * (double)m->tri.none) / (double)c12;
}

/* log(uni + bi + tri), summed left to right; -inf for a zero sum */
static inline double
log_of_terms(double uni, double bi, double tri)
{
    const double sum = uni + bi + tri;
    return sum == 0 ? -INFINITY : log(sum);
}

/* A callback receiving each word as text[start:end]. */
typedef int (*WordSink)(void *ctx, PyObject *text, Py_ssize_t start, Py_ssize_t end);

/* --- conversion of snownlp's dict keys into token ids */

static const char *const STATUS_LETTERS[N_TAGS] = {"b", "m", "e", "s"};

/* 1 and *tok set: a queryable token; 0: never queried (skip). */
static int
parse_token(PyObject *obj, uint32_t *tok)
{
    if (!PyTuple_CheckExact(obj) || PyTuple_GET_SIZE(obj) != 2) {
        return 0;
    }
    PyObject *ch = PyTuple_GET_ITEM(obj, 0);
    PyObject *tag = PyTuple_GET_ITEM(obj, 1);
    if (!PyUnicode_CheckExact(ch) || !PyUnicode_CheckExact(tag)) {
        return 0;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(ch);
    if (n == 0) {
        if (PyUnicode_CompareWithASCIIString(tag, "BOS") == 0) {
            *tok = TOK_BOS;
            return 1;
        }
        return 0;
    }
    if (n != 1) {
        return 0;
    }
    Py_UCS4 c = PyUnicode_READ_CHAR(ch, 0);
    if (!is_cjk(c) || PyUnicode_GET_LENGTH(tag) != 1) {
        return 0;
    }
    /* status is checked to be ('b', 'm', 'e', 's') before any token is parsed */
    const Py_UCS4 letter = PyUnicode_READ_CHAR(tag, 0);
    for (int t = 0; t < N_TAGS; t++) {
        if (letter == (Py_UCS4)STATUS_LETTERS[t][0]) {
            *tok = char_base(c) + (uint32_t)t;
            return 1;
        }
    }
    return 0;
}

static int
parse_count(PyObject *obj, uint32_t *out)
{
    if (!PyLong_CheckExact(obj)) {
        PyErr_SetString(PyExc_ValueError, "segmenter counts must be int");
        return -1;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(obj);
    if (PyErr_Occurred() || v > UINT32_MAX) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "segmenter count out of range");
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Fills a table from a dict whose keys are tuples of `arity` tokens. */
/* `chars` (may be NULL): also marks each key's tag combination under its characters there. */
static int
fill_table(CountTable *t, PyObject *dict, int arity, uint32_t none, MaskTable *chars)
{
    if (table_alloc(t, PyDict_GET_SIZE(dict), none) < 0) {
        return -1;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != arity) {
            continue;
        }
        uint32_t toks[3];
        int ok = 1;
        for (int i = 0; i < arity && ok; i++) {
            ok = parse_token(PyTuple_GET_ITEM(key, i), &toks[i]);
        }
        if (!ok) {
            continue;
        }
        uint32_t count;
        if (parse_count(value, &count) < 0) {
            return -1;
        }
        table_put(t, arity == 2 ? key2(toks[0], toks[1]) : key3(toks[0], toks[1], toks[2]), count);
        if (chars != NULL) {
            if (arity == 2) {
                mask_or(chars, key2(toks[0] >> 2, toks[1] >> 2),
                        1ULL << ((toks[0] & 3) * 4 + (toks[1] & 3)));
            }
            else {
                mask_or(chars, key3(toks[0] >> 2, toks[1] >> 2, toks[2] >> 2),
                        1ULL << ((toks[0] & 3) * 16 + (toks[1] & 3) * 4 + (toks[2] & 3)));
            }
        }
    }
    return 0;
}

static int
parse_doubles(PyObject *seq, int n, double *out, const char *what)
{
    if (!PyTuple_Check(seq) || PyTuple_GET_SIZE(seq) != n) {
        PyErr_Format(PyExc_ValueError, "%s must be a tuple of %d floats", what, n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        PyObject *v = PyTuple_GET_ITEM(seq, i);
        if (!PyFloat_CheckExact(v)) {
            PyErr_Format(PyExc_ValueError, "%s must be a tuple of %d floats", what, n);
            return -1;
        }
        out[i] = PyFloat_AS_DOUBLE(v);
    }
    return 0;
}

static void
Model_dealloc(Model *self)
{
    PyMem_Free(self->uni);
    table_free(&self->bi);
    table_free(&self->tri);
    mask_free(&self->tri_chars);
    mask_free(&self->bi_chars);
    Py_XDECREF(self->lexicon);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Model_init(Model *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"status", "uni", "uni_total", "uni_none", "bi", "bi_none",
                             "tri", "tri_none", "l1", "l2", "l3", "lexicon",
                             "priors", "unknown_terms", "pos_class", NULL};
    PyObject *status, *uni, *bi, *tri, *lexicon, *priors, *unknown;
    PyObject *uni_none_o, *bi_none_o, *tri_none_o;
    double uni_total;
    if (self->uni != NULL || self->lexicon != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Model is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "O!O!dOO!OO!OdddO!O!O!i:Model", kwlist, &PyTuple_Type, &status,
            &PyDict_Type, &uni, &uni_total, &uni_none_o, &PyDict_Type, &bi, &bi_none_o,
            &PyDict_Type, &tri, &tri_none_o, &self->l1, &self->l2, &self->l3, &PyDict_Type,
            &lexicon, &PyTuple_Type, &priors, &PyTuple_Type, &unknown, &self->pos_class)) {
        return -1;
    }
    /* The word builder below knows the tags by letter: the status must be snownlp's. */
    if (PyTuple_GET_SIZE(status) != N_TAGS) {
        PyErr_SetString(PyExc_ValueError, "status must be ('b', 'm', 'e', 's')");
        return -1;
    }
    for (int t = 0; t < N_TAGS; t++) {
        PyObject *s = PyTuple_GET_ITEM(status, t);
        if (!PyUnicode_CheckExact(s) || PyUnicode_CompareWithASCIIString(s, STATUS_LETTERS[t])) {
            PyErr_SetString(PyExc_ValueError, "status must be ('b', 'm', 'e', 's')");
            return -1;
        }
    }
    if (!(uni_total > 0.0) || !isfinite(uni_total)) {
        PyErr_SetString(PyExc_ValueError, "uni_total must be positive and finite");
        return -1;
    }
    uint32_t uni_none, bi_none, tri_none;
    if (parse_count(uni_none_o, &uni_none) < 0 || parse_count(bi_none_o, &bi_none) < 0 ||
        parse_count(tri_none_o, &tri_none) < 0) {
        return -1;
    }
    self->uni_total = uni_total;

    self->uni = PyMem_Malloc(sizeof(uint32_t) * N_TOKENS);
    if (self->uni == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t i = 0; i < N_TOKENS; i++) {
        self->uni[i] = uni_none;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(uni, &pos, &key, &value)) {
        uint32_t tok, count;
        if (!parse_token(key, &tok)) {
            continue;
        }
        if (parse_count(value, &count) < 0) {
            return -1;
        }
        self->uni[tok] = count;
    }
    if (mask_alloc(&self->bi_chars, PyDict_GET_SIZE(bi)) < 0 ||
        fill_table(&self->bi, bi, 2, bi_none, &self->bi_chars) < 0 ||
        mask_alloc(&self->tri_chars, PyDict_GET_SIZE(tri)) < 0 ||
        fill_table(&self->tri, tri, 3, tri_none, &self->tri_chars) < 0) {
        return -1;
    }

    Py_ssize_t n_classes = PyTuple_GET_SIZE(priors);
    if (n_classes < 1 || n_classes > MAX_CLASSES) {
        PyErr_SetString(PyExc_ValueError, "between 1 and 8 classes are supported");
        return -1;
    }
    self->n_classes = (int)n_classes;
    if (self->pos_class < -1 || self->pos_class >= self->n_classes) {
        PyErr_SetString(PyExc_ValueError, "pos_class out of range");
        return -1;
    }
    if (parse_doubles(priors, self->n_classes, self->prior, "priors") < 0 ||
        parse_doubles(unknown, self->n_classes, self->unknown, "unknown_terms") < 0) {
        return -1;
    }
    /* Validate the lexicon once so that scoring can read it without checks. */
    pos = 0;
    while (PyDict_Next(lexicon, &pos, &key, &value)) {
        double scratch[MAX_CLASSES];
        if (!PyUnicode_CheckExact(key)) {
            PyErr_SetString(PyExc_ValueError, "lexicon keys must be str");
            return -1;
        }
        if (value != Py_None && parse_doubles(value, self->n_classes, scratch, "lexicon values") < 0) {
            return -1;
        }
    }
    /* A private copy: nobody else can change what scoring reads without checks. */
    self->lexicon = PyDict_Copy(lexicon);
    return self->lexicon == NULL ? -1 : 0;
}

/* ---------------------------------------------------------------- the segmenter */

/*
 * Viterbi of CharacterBasedGenerativeModel.tag over one run of n characters whose token bases
 * are base[0..n). Writes the chosen status index of every character to tags_out.
 * hist_tag / hist_back hold n * MAX_STATES entries: each step's states (their current tag and
 * the index of their predecessor in the previous stage).
 */
static void
viterbi(const Model *m, const uint32_t *base, Py_ssize_t n, uint8_t *hist_tag,
        uint8_t *hist_back, uint8_t *tags_out)
{
    double now_p[MAX_STATES];
    uint8_t now_prev[MAX_STATES], now_cur[MAX_STATES];
    int n_now = 1;
    now_p[0] = 0.0;
    now_prev[0] = TAG_BOS;
    now_cur[0] = TAG_BOS;

    for (Py_ssize_t q = 0; q < n; q++) {
        const uint32_t b3 = base[q];
        const uint32_t b2 = q >= 1 ? base[q - 1] : 0;
        const uint32_t b1 = q >= 2 ? base[q - 2] : 0;
        double st_p[MAX_STATES];
        uint8_t st_prev[MAX_STATES], st_cur[MAX_STATES], st_back[MAX_STATES];
        int8_t index[TAG_BOS + 1][N_TAGS];
        int n_st = 0;
        memset(index, -1, sizeof index);

        /* uni.freq((w, s)) != 0 for some s <=> some count != 0 (total is positive, finite) */
        int found = 0;
        for (int s = 0; s < N_TAGS; s++) {
            if ((double)m->uni[b3 + s] / m->uni_total != 0) {
                found = 1;
                break;
            }
        }
        if (!found) {
            for (int s = 0; s < N_TAGS; s++) {
                for (int j = 0; j < n_now; j++) {
                    int k = index[now_cur[j]][s];
                    if (k < 0) {
                        k = n_st++;
                        index[now_cur[j]][s] = (int8_t)k;
                        st_prev[k] = now_cur[j];
                        st_cur[k] = (uint8_t)s;
                    }
                    st_p[k] = now_p[j];
                    st_back[k] = (uint8_t)j;
                }
            }
        }
        else {
            uint32_t tok1[MAX_STATES], tok2[MAX_STATES], c2[MAX_STATES], c12[MAX_STATES];
            /* the tag combinations tri has for (tok1, tok2, next char), bi for (tok2, next
             * char), each shifted to the combinations of this predecessor: bit s is tag s */
            uint64_t seen[MAX_STATES], pair_seen[MAX_STATES];
            uint64_t last_pair = UINT64_MAX, last_pair_bits = 0;
            uint64_t last_prev_pair = UINT64_MAX, last_prev_bits = 0;
            uint64_t last_chars = UINT64_MAX, last_bits = 0;
            for (int j = 0; j < n_now; j++) {
                tok1[j] = now_prev[j] == TAG_BOS ? TOK_BOS : b1 + now_prev[j];
                tok2[j] = now_cur[j] == TAG_BOS ? TOK_BOS : b2 + now_cur[j];
                c2[j] = m->uni[tok2[j]];
                const uint64_t prev_pair = key2(tok1[j] >> 2, tok2[j] >> 2);
                if (prev_pair != last_prev_pair) { /* the same for every j once past the start */
                    last_prev_pair = prev_pair;
                    last_prev_bits = mask_get(&m->bi_chars, prev_pair);
                }
                /* a key bi does not have counts its `none`: no look-up in the large table */
                c12[j] = (last_prev_bits >> ((tok1[j] & 3) * 4 + (tok2[j] & 3))) & 1
                             ? table_get(&m->bi, key2(tok1[j], tok2[j]))
                             : m->bi.none;
                const uint64_t chars = key3(tok1[j] >> 2, tok2[j] >> 2, b3 >> 2);
                if (chars != last_chars) { /* the same for every j once past the start */
                    last_chars = chars;
                    last_bits = mask_get(&m->tri_chars, chars);
                }
                seen[j] = (last_bits >> ((tok1[j] & 3) * 16 + (tok2[j] & 3) * 4)) & 0xF;
                const uint64_t pair = key2(tok2[j] >> 2, b3 >> 2);
                if (pair != last_pair) {
                    last_pair = pair;
                    last_pair_bits = mask_get(&m->bi_chars, pair);
                }
                pair_seen[j] = (last_pair_bits >> ((tok2[j] & 3) * 4)) & 0xF;
            }
            for (int s = 0; s < N_TAGS; s++) {
                const uint32_t tok3 = b3 + (uint32_t)s;
                const double uni = uni_term(m, tok3);
                /* bi depends on the predecessor only through its current tag */
                double bis[TAG_BOS + 1];
                int have_bi[TAG_BOS + 1] = {0, 0, 0, 0, 0};
                /* log(uni + bi + 0.0) is log(uni + bi): shared by every predecessor with the
                 * same current tag whose trigram is unseen (most of them), one log() each */
                double logs0[TAG_BOS + 1];
                int have_log0[TAG_BOS + 1] = {0, 0, 0, 0, 0};
                for (int j = 0; j < n_now; j++) {
                    const int cur = now_cur[j];
                    if (!have_bi[cur]) {
                        bis[cur] = (pair_seen[j] >> s) & 1 ? bi_term(m, tok2[j], c2[j], tok3)
                                                           : bi_term_unseen(m, c2[j]);
                        have_bi[cur] = 1;
                    }
                    const double tri = (seen[j] >> s) & 1
                                           ? tri_term(m, tok1[j], tok2[j], c12[j], tok3)
                                           : tri_term_unseen(m, c12[j]);
                    double lp;
                    if (tri == 0.0) {
                        if (!have_log0[cur]) {
                            logs0[cur] = log_of_terms(uni, bis[cur], 0.0);
                            have_log0[cur] = 1;
                        }
                        lp = logs0[cur];
                    }
                    else {
                        lp = log_of_terms(uni, bis[cur], tri);
                    }
                    const double p = now_p[j] + lp;
                    int k = index[cur][s];
                    if (k < 0) {
                        k = n_st++;
                        index[cur][s] = (int8_t)k;
                        st_prev[k] = (uint8_t)cur;
                        st_cur[k] = (uint8_t)s;
                        st_p[k] = p;
                        st_back[k] = (uint8_t)j;
                    }
                    else if (p > st_p[k]) {
                        st_p[k] = p;
                        st_back[k] = (uint8_t)j;
                    }
                }
            }
        }
        memcpy(hist_tag + q * MAX_STATES, st_cur, (size_t)n_st);
        memcpy(hist_back + q * MAX_STATES, st_back, (size_t)n_st);
        memcpy(now_p, st_p, sizeof(double) * (size_t)n_st);
        memcpy(now_prev, st_prev, (size_t)n_st);
        memcpy(now_cur, st_cur, (size_t)n_st);
        n_now = n_st;
    }
    /* max(now, key=p): the first maximum wins */
    int best = 0;
    for (int k = 1; k < n_now; k++) {
        if (now_p[k] > now_p[best]) {
            best = k;
        }
    }
    for (Py_ssize_t q = n - 1; q >= 0; q--) {
        tags_out[q] = hist_tag[q * MAX_STATES + best];
        best = hist_back[q * MAX_STATES + best];
    }
}

/* Segments text[start:end] (all characters in U+4E00..U+9FA5) and passes each word on. */
static int
segment_run(const Model *m, PyObject *text, int kind, const void *data, Py_ssize_t start,
            Py_ssize_t end, WordSink sink, void *ctx)
{
    const Py_ssize_t n = end - start;
    uint32_t stack_base[STACK_RUN];
    uint8_t stack_tag[STACK_RUN * MAX_STATES], stack_back[STACK_RUN * MAX_STATES];
    uint8_t stack_out[STACK_RUN];
    uint32_t *base = stack_base;
    uint8_t *hist_tag = stack_tag, *hist_back = stack_back, *tags = stack_out;
    void *heap = NULL;
    if (n > STACK_RUN) {
        if ((size_t)n > (PY_SSIZE_T_MAX - 64) / (sizeof(uint32_t) + 2 * MAX_STATES + 1)) {
            PyErr_NoMemory();
            return -1;
        }
        heap = PyMem_Malloc((size_t)n * (sizeof(uint32_t) + 2 * MAX_STATES + 1));
        if (heap == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        base = (uint32_t *)heap;
        hist_tag = (uint8_t *)(base + n);
        hist_back = hist_tag + (size_t)n * MAX_STATES;
        tags = hist_back + (size_t)n * MAX_STATES;
    }
    for (Py_ssize_t q = 0; q < n; q++) {
        base[q] = char_base(PyUnicode_READ(kind, data, start + q));
    }
    viterbi(m, base, n, hist_tag, hist_back, tags);

    /* seg/seg.py Seg.seg: b and s start a word, m extends it, e ends it */
    int rc = 0;
    Py_ssize_t word = -1; /* start of the pending word ('tmp'), -1 when it is empty */
    for (Py_ssize_t q = 0; q < n && rc == 0; q++) {
        switch (tags[q]) {
        case TAG_E:
            rc = sink(ctx, text, start + (word >= 0 ? word : q), start + q + 1);
            word = -1;
            break;
        case TAG_B:
        case TAG_S:
            if (word >= 0) {
                rc = sink(ctx, text, start + word, start + q);
            }
            word = q;
            break;
        default: /* TAG_M */
            if (word < 0) {
                word = q;
            }
        }
    }
    if (rc == 0 && word >= 0) {
        rc = sink(ctx, text, start + word, end);
    }
    PyMem_Free(heap);
    return rc;
}

/*
 * snownlp.seg.seg: runs of U+4E00..U+9FA5 are segmented; every other run is s.strip() then
 * s.split() (both split on Py_UNICODE_ISSPACE), which is the same as splitting on whitespace.
 */
static int
walk_words(const Model *m, PyObject *text, WordSink sink, void *ctx)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) {
        return -1;
    }
#endif
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t j = i + 1;
        if (is_cjk(PyUnicode_READ(kind, data, i))) {
            while (j < n && is_cjk(PyUnicode_READ(kind, data, j))) {
                j++;
            }
            if (segment_run(m, text, kind, data, i, j, sink, ctx) < 0) {
                return -1;
            }
        }
        else {
            while (j < n && !is_cjk(PyUnicode_READ(kind, data, j))) {
                j++;
            }
            Py_ssize_t k = i;
            for (;;) {
                while (k < j && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k))) {
                    k++;
                }
                if (k >= j) {
                    break;
                }
                Py_ssize_t w = k;
                while (k < j && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k))) {
                    k++;
                }
                if (sink(ctx, text, w, k) < 0) {
                    return -1;
                }
            }
        }
        i = j;
    }
    return 0;
}

/* ---------------------------------------------------------------- sinks */

static int
list_sink(void *ctx, PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *w = PyUnicode_Substring(text, start, end);
    if (w == NULL) {
        return -1;
    }
    int rc = PyList_Append((PyObject *)ctx, w);
    Py_DECREF(w);
    return rc;
}

typedef struct {
    const Model *m;
    double tmp[MAX_CLASSES];
} BayesAcc;

/* normal.filter_stop, then tmp[k] += log(freq_k(word)) for every class k */
static int
bayes_sink(void *vctx, PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    BayesAcc *acc = (BayesAcc *)vctx;
    PyObject *w = PyUnicode_Substring(text, start, end);
    if (w == NULL) {
        return -1;
    }
    PyObject *terms = PyDict_GetItemWithError(acc->m->lexicon, w); /* borrowed */
    Py_DECREF(w);
    const int n = acc->m->n_classes;
    if (terms == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        for (int k = 0; k < n; k++) {
            acc->tmp[k] += acc->m->unknown[k];
        }
    }
    else if (terms != Py_None) {
        for (int k = 0; k < n; k++) {
            acc->tmp[k] += PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(terms, k));
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- methods */

static int
check_ready(Model *self, PyObject *text)
{
    if (self->lexicon == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Model is not initialised");
        return -1;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "text must be str, not %.100s", Py_TYPE(text)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *
Model_sentiment(Model *self, PyObject *text)
{
    if (check_ready(self, text) < 0) {
        return NULL;
    }
    BayesAcc acc;
    acc.m = self;
    const int n = self->n_classes;
    for (int k = 0; k < n; k++) {
        acc.tmp[k] = self->prior[k];
    }
    if (walk_words(self, text, bayes_sink, &acc) < 0) {
        return NULL;
    }
    /* Bayes.classify's final loop; math.exp raises OverflowError exactly when the result is
     * infinite for a finite argument, and the except clause then sets now = 0. */
    int ret = -1;
    double prob = 0.0;
    for (int k = 0; k < n; k++) {
        double now = 0.0;
        int overflow = 0;
        for (int o = 0; o < n; o++) {
            const double x = acc.tmp[o] - acc.tmp[k];
            const double e = exp(x);
            if (isinf(e) && isfinite(x)) {
                overflow = 1;
                break;
            }
            now += e;
        }
        now = overflow ? 0.0 : 1.0 / now;
        if (now > prob) {
            ret = k;
            prob = now;
        }
    }
    return PyFloat_FromDouble(ret >= 0 && ret == self->pos_class ? prob : 1.0 - prob);
}

static PyObject *
Model_segment(Model *self, PyObject *text)
{
    if (check_ready(self, text) < 0) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    if (walk_words(self, text, list_sink, out) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* Test hook: CharacterBasedGenerativeModel.log_prob(s1, s2, s3) for tokens (char, tag). */
static PyObject *
Model_log_prob(Model *self, PyObject *args)
{
    PyObject *s1, *s2, *s3;
    if (!PyArg_ParseTuple(args, "OOO:log_prob", &s1, &s2, &s3)) {
        return NULL;
    }
    if (self->lexicon == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Model is not initialised");
        return NULL;
    }
    uint32_t tok[3];
    PyObject *objs[3] = {s1, s2, s3};
    for (int i = 0; i < 3; i++) {
        if (!parse_token(objs[i], &tok[i])) {
            PyErr_SetString(PyExc_ValueError,
                            "tokens are ('', 'BOS') or (a U+4E00..U+9FA5 char, a status tag)");
            return NULL;
        }
    }
    const uint32_t c2 = self->uni[tok[1]];
    const uint32_t c12 = table_get(&self->bi, key2(tok[0], tok[1]));
    return PyFloat_FromDouble(log_of_terms(uni_term(self, tok[2]), bi_term(self, tok[1], c2, tok[2]),
                                           tri_term(self, tok[0], tok[1], c12, tok[2])));
}

static PyMethodDef Model_methods[] = {
    {"log_prob", (PyCFunction)Model_log_prob, METH_VARARGS,
     "log_prob(s1, s2, s3, /)\n--\n\nSame float as snownlp's CharacterBasedGenerativeModel.log_prob (for tests)."},
    {"sentiment", (PyCFunction)Model_sentiment, METH_O,
     "sentiment(text, /)\n--\n\nSame float as snownlp.SnowNLP(text).sentiments ('' gives the prior)."},
    {"segment", (PyCFunction)Model_segment, METH_O,
     "segment(text, /)\n--\n\nSame list as snownlp.seg.seg(text)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "complaints.polarity._kernel.Model",
    .tp_doc = PyDoc_STR("snownlp's segmenter and sentiment Bayes as int-indexed tables."),
    .tp_basicsize = sizeof(Model),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Model_init,
    .tp_dealloc = (destructor)Model_dealloc,
    .tp_methods = Model_methods,
};

/* ---------------------------------------------------------------- n-gram weights (textmodel) */

/*
 * GramTable(orders, weights, bias): complaints.textmodel's character n-gram model as one
 * open-addressing table keyed by the gram's code points packed into 64 bits (each code point + 1
 * in 21 bits, so grams of 1 to 3 characters never collide and 0 means empty).
 * logit(text) is `bias + sum(weights.get(g, 0.0))` over the distinct grams of `text` (already
 * normalised: digits as 0, whitespace runs as one space), the grams of each order in `orders` in
 * order of first appearance, each added once, left to right in C doubles: the same additions
 * in the same order as CPython 3.11's sum() of those floats, so the same double. Not clipped.
 */
#define GRAM_MAX 3
#define GRAM_STACK 1024 /* slots of the per-call seen set kept on the stack */

typedef struct {
    PyObject_HEAD
    uint64_t *keys;
    double *vals;
    uint64_t mask;
    int shift;
    double bias;
    Py_ssize_t n_orders;
    Py_ssize_t orders[8];
} GramTable;

static inline uint64_t
gram_slot(uint64_t key, int shift)
{
    return (key * 0x9E3779B97F4A7C15ULL) >> shift;
}

static inline uint64_t
gram_key(int kind, const void *data, Py_ssize_t i, Py_ssize_t k)
{
    uint64_t key = 0;
    for (Py_ssize_t j = 0; j < k; j++) {
        key = (key << 21) | ((uint64_t)PyUnicode_READ(kind, data, i + j) + 1);
    }
    return key;
}

static void
GramTable_dealloc(GramTable *self)
{
    PyMem_Free(self->keys);
    PyMem_Free(self->vals);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
GramTable_init(GramTable *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"orders", "weights", "bias", NULL};
    PyObject *orders, *weights;
    double bias;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!d", kwlist, &PyTuple_Type, &orders,
                                     &PyDict_Type, &weights, &bias)) {
        return -1;
    }
    if (PyTuple_GET_SIZE(orders) > 8) {
        PyErr_SetString(PyExc_ValueError, "at most 8 orders");
        return -1;
    }
    self->n_orders = PyTuple_GET_SIZE(orders);
    for (Py_ssize_t o = 0; o < self->n_orders; o++) {
        Py_ssize_t k = PyLong_AsSsize_t(PyTuple_GET_ITEM(orders, o));
        if (k == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (k < 1 || k > GRAM_MAX) {
            PyErr_Format(PyExc_ValueError, "orders must be 1 to %d", GRAM_MAX);
            return -1;
        }
        self->orders[o] = k;
    }
    self->bias = bias;
    uint64_t cap = 16;
    int bits = 4;
    while (cap < (uint64_t)PyDict_GET_SIZE(weights) * 2 + 1) {
        cap <<= 1;
        bits++;
    }
    PyMem_Free(self->keys);
    PyMem_Free(self->vals);
    self->keys = PyMem_Calloc((size_t)cap, sizeof(uint64_t));
    self->vals = PyMem_Calloc((size_t)cap, sizeof(double));
    if (self->keys == NULL || self->vals == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->mask = cap - 1;
    self->shift = 64 - bits;
    Py_ssize_t pos = 0;
    PyObject *gram, *weight;
    while (PyDict_Next(weights, &pos, &gram, &weight)) {
        if (!PyUnicode_Check(gram) || PyUnicode_GET_LENGTH(gram) < 1 ||
            PyUnicode_GET_LENGTH(gram) > GRAM_MAX) {
            PyErr_Format(PyExc_ValueError, "a gram must be a str of 1 to %d characters", GRAM_MAX);
            return -1;
        }
        const double w = PyFloat_AsDouble(weight);
        if (w == -1.0 && PyErr_Occurred()) {
            return -1;
        }
        const uint64_t key = gram_key(PyUnicode_KIND(gram), PyUnicode_DATA(gram), 0,
                                      PyUnicode_GET_LENGTH(gram));
        uint64_t i = gram_slot(key, self->shift);
        while (self->keys[i] != 0 && self->keys[i] != key) {
            i = (i + 1) & self->mask;
        }
        self->keys[i] = key;
        self->vals[i] = w;
    }
    return 0;
}

static PyObject *
GramTable_logit(GramTable *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "logit() takes a str");
        return NULL;
    }
    if (self->keys == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "GramTable not initialised");
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    /* the grams already added: at most n per order */
    uint64_t need = 16;
    int bits = 4;
    while (need < (uint64_t)n * (uint64_t)self->n_orders * 2 + 1) {
        need <<= 1;
        bits++;
    }
    uint64_t stack_seen[GRAM_STACK];
    uint64_t *seen = stack_seen;
    if (need > GRAM_STACK) {
        seen = PyMem_Calloc((size_t)need, sizeof(uint64_t));
        if (seen == NULL) {
            return PyErr_NoMemory();
        }
    } else {
        memset(stack_seen, 0, (size_t)need * sizeof(uint64_t));
    }
    const uint64_t seen_mask = need - 1;
    const int seen_shift = 64 - bits;
    double z = self->bias;
    for (Py_ssize_t o = 0; o < self->n_orders; o++) {
        const Py_ssize_t k = self->orders[o];
        for (Py_ssize_t i = 0; i + k <= n; i++) {
            const uint64_t key = gram_key(kind, data, i, k);
            uint64_t s = gram_slot(key, self->shift);
            uint64_t stored;
            while ((stored = self->keys[s]) != 0 && stored != key) {
                s = (s + 1) & self->mask;
            }
            if (stored == 0) {
                z += 0.0; /* weights.get(g, 0.0) */
                continue;
            }
            uint64_t d = gram_slot(key, seen_shift);
            int dup = 0;
            while (seen[d] != 0) {
                if (seen[d] == key) {
                    dup = 1;
                    break;
                }
                d = (d + 1) & seen_mask;
            }
            if (!dup) {
                seen[d] = key;
                z += self->vals[s];
            }
        }
    }
    if (seen != stack_seen) {
        PyMem_Free(seen);
    }
    return PyFloat_FromDouble(z);
}

static PyMethodDef GramTable_methods[] = {
    {"logit", (PyCFunction)GramTable_logit, METH_O,
     "logit(text, /)\n--\n\nbias + the weights of the distinct n-grams of text, summed in order of first appearance (complaints.textmodel); not clipped."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject GramTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "complaints.polarity._kernel.GramTable",
    .tp_doc = PyDoc_STR("complaints.textmodel's character n-gram weights as one packed-key table."),
    .tp_basicsize = sizeof(GramTable),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)GramTable_init,
    .tp_dealloc = (destructor)GramTable_dealloc,
    .tp_methods = GramTable_methods,
};

/* ---------------------------------------------------------------- lexicon terms (matching) */

/*
 * TermTable(terms, match): complaints.matching.TermIndex.find_all in C. Every term is kept in
 * one open-addressing table keyed by a 64-bit hash of its code points (a hit is checked code
 * point by code point), and each first character in a second table with the set of term
 * lengths (a bit mask, up to TERM_MAX_LEN characters). find_all(text) walks the text once and
 * returns what the Python loop returns, in the same order and with the same quirk: at the end
 * of the text a length that runs past it is tried on what is left (text[i:i + n] is shorter)
 * and reported with end i + n. ASCII terms count only as whole words (sb is not in usb).
 */
#define TERM_MAX_LEN 32

typedef struct {
    uint64_t hash; /* 0: empty */
    PyObject *term;
    int latin;
} TermSlot;

typedef struct {
    uint32_t ch; /* code point + 1; 0: empty */
    uint32_t lengths;
} FirstSlot;

typedef struct {
    PyObject_HEAD
    TermSlot *terms;
    uint64_t terms_mask;
    int terms_shift;
    FirstSlot *firsts;
    uint64_t firsts_mask;
    int firsts_shift;
    PyObject *match; /* the Match type: match(start, end, term) */
} TermTable;

static inline uint64_t
term_hash_step(uint64_t h, Py_UCS4 c)
{
    h ^= (uint64_t)c + 1;
    return h * 0x100000001B3ULL;
}

#define TERM_HASH_SEED 0xCBF29CE484222325ULL

static inline uint64_t
term_fix(uint64_t h)
{
    return h == 0 ? 1 : h;
}

static void
TermTable_clear_tables(TermTable *self)
{
    if (self->terms != NULL) {
        for (uint64_t i = 0; i <= self->terms_mask; i++) {
            Py_XDECREF(self->terms[i].term);
        }
    }
    PyMem_Free(self->terms);
    PyMem_Free(self->firsts);
    self->terms = NULL;
    self->firsts = NULL;
}

static void
TermTable_dealloc(TermTable *self)
{
    TermTable_clear_tables(self);
    Py_XDECREF(self->match);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
table_size(Py_ssize_t n, uint64_t *mask, int *shift)
{
    uint64_t cap = 16;
    int bits = 4;
    while (cap < (uint64_t)n * 2 + 1) {
        cap <<= 1;
        bits++;
    }
    *mask = cap - 1;
    *shift = 64 - bits;
    return 0;
}

static FirstSlot *
first_slot(FirstSlot *firsts, uint64_t mask, int shift, Py_UCS4 c)
{
    uint64_t i = (((uint64_t)c + 1) * 0x9E3779B97F4A7C15ULL) >> shift;
    while (firsts[i].ch != 0 && firsts[i].ch != (uint32_t)c + 1) {
        i = (i + 1) & mask;
    }
    return &firsts[i];
}

static int
TermTable_init(TermTable *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"terms", "match", NULL};
    PyObject *terms_arg, *match;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO", kwlist, &terms_arg, &match)) {
        return -1;
    }
    PyObject *terms = PySequence_Fast(terms_arg, "terms must be iterable");
    if (terms == NULL) {
        return -1;
    }
    TermTable_clear_tables(self);
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(terms);
    table_size(n, &self->terms_mask, &self->terms_shift);
    table_size(n, &self->firsts_mask, &self->firsts_shift);
    self->terms = PyMem_Calloc((size_t)self->terms_mask + 1, sizeof(TermSlot));
    self->firsts = PyMem_Calloc((size_t)self->firsts_mask + 1, sizeof(FirstSlot));
    if (self->terms == NULL || self->firsts == NULL) {
        Py_DECREF(terms);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *term = PySequence_Fast_GET_ITEM(terms, k);
        if (!PyUnicode_Check(term)) {
            Py_DECREF(terms);
            PyErr_SetString(PyExc_TypeError, "terms must be str");
            return -1;
        }
        const Py_ssize_t len = PyUnicode_GET_LENGTH(term);
        if (len < 1 || len > TERM_MAX_LEN) {
            Py_DECREF(terms);
            PyErr_Format(PyExc_ValueError, "a term must have 1 to %d characters", TERM_MAX_LEN);
            return -1;
        }
        const int kind = PyUnicode_KIND(term);
        const void *data = PyUnicode_DATA(term);
        uint64_t h = TERM_HASH_SEED;
        for (Py_ssize_t j = 0; j < len; j++) {
            h = term_hash_step(h, PyUnicode_READ(kind, data, j));
        }
        h = term_fix(h);
        uint64_t i = (h * 0x9E3779B97F4A7C15ULL) >> self->terms_shift;
        int dup = 0;
        while (self->terms[i].hash != 0) {
            if (self->terms[i].hash == h &&
                PyUnicode_Compare(self->terms[i].term, term) == 0) {
                dup = 1;
                break;
            }
            i = (i + 1) & self->terms_mask;
        }
        if (dup) {
            continue;
        }
        Py_INCREF(term);
        self->terms[i].hash = h;
        self->terms[i].term = term;
        self->terms[i].latin = PyUnicode_IS_ASCII(term);
        FirstSlot *f = first_slot(self->firsts, self->firsts_mask, self->firsts_shift,
                                  PyUnicode_READ(kind, data, 0));
        f->ch = (uint32_t)PyUnicode_READ(kind, data, 0) + 1;
        f->lengths |= 1u << (len - 1);
    }
    Py_DECREF(terms);
    Py_INCREF(match);
    Py_XSETREF(self->match, match);
    return 0;
}

static inline int
ascii_alnum(Py_UCS4 c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static PyObject *
TermTable_find_all(TermTable *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "find_all() takes a str");
        return NULL;
    }
    if (self->terms == NULL || self->match == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "TermTable not initialised");
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const Py_UCS4 c0 = PyUnicode_READ(kind, data, i);
        const FirstSlot *f = first_slot(self->firsts, self->firsts_mask, self->firsts_shift, c0);
        uint32_t lengths = f->ch != 0 ? f->lengths : 0;
        while (lengths != 0) {
            const int len = 32 - __builtin_clz(lengths); /* longest first */
            lengths &= ~(1u << (len - 1));
            const Py_ssize_t m = (i + len <= n) ? len : n - i; /* text[i:i + len] */
            uint64_t h = TERM_HASH_SEED;
            for (Py_ssize_t j = 0; j < m; j++) {
                h = term_hash_step(h, PyUnicode_READ(kind, data, i + j));
            }
            h = term_fix(h);
            uint64_t s = (h * 0x9E3779B97F4A7C15ULL) >> self->terms_shift;
            const TermSlot *hit = NULL;
            while (self->terms[s].hash != 0) {
                const TermSlot *t = &self->terms[s];
                if (t->hash == h && PyUnicode_GET_LENGTH(t->term) == m) {
                    const int tk = PyUnicode_KIND(t->term);
                    const void *td = PyUnicode_DATA(t->term);
                    Py_ssize_t j = 0;
                    while (j < m && PyUnicode_READ(tk, td, j) == PyUnicode_READ(kind, data, i + j)) {
                        j++;
                    }
                    if (j == m) {
                        hit = t;
                        break;
                    }
                }
                s = (s + 1) & self->terms_mask;
            }
            if (hit == NULL) {
                continue;
            }
            const Py_ssize_t end = i + len;
            if (hit->latin) {
                const Py_UCS4 before = i > 0 ? PyUnicode_READ(kind, data, i - 1) : ' ';
                const Py_UCS4 after = end < n ? PyUnicode_READ(kind, data, end) : ' ';
                if (ascii_alnum(before) || ascii_alnum(after)) {
                    continue;
                }
            }
            PyObject *m_obj = PyObject_CallFunction(self->match, "nnO", i, end, hit->term);
            if (m_obj == NULL || PyList_Append(out, m_obj) < 0) {
                Py_XDECREF(m_obj);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(m_obj);
        }
    }
    return out;
}

static PyMethodDef TermTable_methods[] = {
    {"find_all", (PyCFunction)TermTable_find_all, METH_O,
     "find_all(text, /)\n--\n\nEvery occurrence of every term, by start, longest first (complaints.matching.TermIndex.find_all)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TermTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "complaints.polarity._kernel.TermTable",
    .tp_doc = PyDoc_STR("Lexicon terms by hash and by first character, for one pass over a text."),
    .tp_basicsize = sizeof(TermTable),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)TermTable_init,
    .tp_dealloc = (destructor)TermTable_dealloc,
    .tp_methods = TermTable_methods,
};

static struct PyModuleDef kernel_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "complaints.polarity._kernel",
    .m_doc = "Typed C kernel: exact snownlp 0.12.3 sentiment over int-indexed tables.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__kernel(void)
{
    if (PyType_Ready(&ModelType) < 0 || PyType_Ready(&GramTableType) < 0 ||
        PyType_Ready(&TermTableType) < 0) {
        return NULL;
    }
    PyObject *mod = PyModule_Create(&kernel_module);
    if (mod == NULL) {
        return NULL;
    }
    Py_INCREF(&ModelType);
    if (PyModule_AddObject(mod, "Model", (PyObject *)&ModelType) < 0) {
        Py_DECREF(&ModelType);
        Py_DECREF(mod);
        return NULL;
    }
    Py_INCREF(&TermTableType);
    if (PyModule_AddObject(mod, "TermTable", (PyObject *)&TermTableType) < 0) {
        Py_DECREF(&TermTableType);
        Py_DECREF(mod);
        return NULL;
    }
    Py_INCREF(&GramTableType);
    if (PyModule_AddObject(mod, "GramTable", (PyObject *)&GramTableType) < 0) {
        Py_DECREF(&GramTableType);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
