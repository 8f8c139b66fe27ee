// cpp_plugin.cpp - a nahr plugin written in C++ (built by tests/sdk/run.sh
// against the installed SDK): adds the field "cpp_words" with the number of
// whitespace-separated words, using the C++ standard library.
#include <nahr/nahr.h>

#include <new>
#include <sstream>
#include <string>

namespace {

struct counter {
    std::string field;
};

int cp_init(const nahr_stage *st, void **out)
{
    counter *c = new (std::nothrow) counter{nahr_stage_str(st, "field")};
    if (!c)
        return NAHR_ENOMEM;
    *out = c;
    return NAHR_OK;
}

void cp_destroy(void *inst) { delete static_cast<counter *>(inst); }

int cp_process(void *inst, void *, nahr_doc *doc, nahr_ctx *ctx)
{
    const counter *c = static_cast<const counter *>(inst);
    size_t n = 0;
    const char *text = nahr_doc_text(doc, &n);
    std::istringstream in(std::string(text, n));
    std::string word;
    int64_t words = 0;
    while (in >> word)
        words++;
    if (nahr_doc_set_field(doc, c->field.c_str(), nahr_value_int(doc, words)) < 0)
        return nahr_ctx_error(ctx, "cannot set field %s", c->field.c_str());
    return NAHR_OK;
}

const nahr_option cp_options[] = {
    {"field", NAHR_OPT_STRING, "cpp_words", "name of the field to add", nullptr},
    {nullptr, static_cast<nahr_opt_type>(0), nullptr, nullptr, nullptr},
};

nahr_plugin make_descriptor()
{
    nahr_plugin p{};
    p.abi_version = NAHR_ABI_VERSION;
    p.struct_size = sizeof(nahr_plugin);
    p.name = "cppwords";
    p.version = "1.0";
    p.description = "count words (a plugin written in C++)";
    p.options = cp_options;
    p.thread_model = NAHR_THREAD_SHARED;
    p.init = cp_init;
    p.destroy = cp_destroy;
    p.process = cp_process;
    return p;
}

const nahr_plugin descriptor = make_descriptor();

} // namespace

NAHR_PLUGIN_DEFINE(descriptor)
