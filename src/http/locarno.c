/* locarno.c - GET /api/locarno: the Locarno classes with their names, and
 * how many images each holds in a collection (for the UI's class picker).
 *
 * The 32 class titles are those of the Locarno Classification (WIPO),
 * shortened where the official title runs long. Subclass titles are not
 * carried: the subclasses listed are those present in the collection, by
 * code and count.
 */
#include "http/locarno.h"

#include <stdlib.h>
#include <string.h>

#include "http/api.h"

static const char *const class_names[] = {
    "Foodstuffs",
    "Articles of clothing and haberdashery",
    "Travel goods, cases, parasols and personal belongings",
    "Brushware",
    "Textile piecegoods, artificial and natural sheet material",
    "Furnishing",
    "Household goods",
    "Tools and hardware",
    "Packages and containers for the transport or handling of goods",
    "Clocks and watches and other measuring, checking and signalling instruments",
    "Articles of adornment",
    "Means of transport or hoisting",
    "Equipment for production, distribution or transformation of electricity",
    "Recording, telecommunication or data processing equipment",
    "Machines",
    "Photographic, cinematographic and optical apparatus",
    "Musical instruments",
    "Printing and office machinery",
    "Stationery and office equipment, artists' and teaching materials",
    "Sales and advertising equipment, signs",
    "Games, toys, tents and sports goods",
    "Arms, pyrotechnic articles, articles for hunting, fishing and pest killing",
    "Fluid distribution, sanitary, heating, ventilation and air-conditioning equipment",
    "Medical and laboratory equipment",
    "Building units and construction elements",
    "Lighting apparatus",
    "Tobacco and smokers' supplies",
    "Pharmaceutical and cosmetic products, toilet articles and apparatus",
    "Devices and equipment against fire hazards, for accident prevention and rescue",
    "Articles for the care and handling of animals",
    "Machines and appliances for preparing food or drink",
    "Graphic symbols and logos, surface patterns, ornamentation",
};
#define N_CLASSES (sizeof class_names / sizeof class_names[0])

typedef struct counts {
    json_int_t per_class[N_CLASSES + 1];  /* [1..32]; [0] unused */
    json_int_t other;                     /* classes outside 01..32 (e.g. 99) */
    json_t *subclasses;
} counts;

static int on_class(void *ctx, const char *loc, int64_t images)
{
    counts *c = ctx;
    int cls = (loc && loc[0] >= '0' && loc[0] <= '9' && loc[1] >= '0' && loc[1] <= '9')
                  ? (loc[0] - '0') * 10 + (loc[1] - '0')
                  : 0;
    if (cls >= 1 && cls <= (int)N_CLASSES)
        c->per_class[cls] += images;
    else
        c->other += images;
    if (loc)
        json_array_append_new(c->subclasses,
                              json_pack("{s:s,s:I}", "code", loc, "images", (json_int_t)images));
    return 0;
}

int api_h_locarno(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    ds_err err = {0};
    const char *coll = http_params_get(&req->query, "collection");
    if (eng_collection_id(app->engine, coll, &err) < 0) {
        http_respond_error(resp, 404, "%s", err.msg);
        return 0;
    }
    counts c = {.subclasses = json_array()};
    if (eng_loc_counts(app->engine, coll, on_class, &c, &err) != 0) {
        json_decref(c.subclasses);
        http_respond_error(resp, err.code == DS_ENET ? 503 : 500, "%s", err.msg);
        return 0;
    }
    json_t *classes = json_array();
    for (size_t i = 1; i <= N_CLASSES; i++) {
        char code[3] = {(char)('0' + i / 10), (char)('0' + i % 10), 0};
        json_array_append_new(classes, json_pack("{s:s,s:s,s:I}", "code", code, "name",
                                                 class_names[i - 1], "images", c.per_class[i]));
    }
    http_respond_ok(resp, json_pack("{s:o,s:o,s:I,s:s}", "classes", classes, "subclasses",
                                    c.subclasses, "other_images", c.other, "edition_note",
                                    "class titles of the Locarno Classification; subclasses "
                                    "by code as found in the collection"));
    return 0;
}
