"""External code sets openEHR uses, as compact Python data: ISO 639-1, ISO 3166-1, IANA charsets and media types.

Sources: ISO 639-1 (the 183 current two-letter codes, plus ``bh``, withdrawn but listed by many registries);
ISO 3166-1 alpha-2 (the 249 officially assigned codes); the IANA Character Sets registry (preferred MIME names
and the aliases in common use); the IANA Media Types registry (top-level types) and RFC 6838 name syntax; the
openEHR Support Terminology code sets ``languages``, ``countries``, ``character_sets`` and ``media_types``,
whose few non-ISO entries are kept separately (``OPENEHR_*``) so the ISO lists stay exact.
"""

from __future__ import annotations

ISO_639_1: frozenset[str] = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik
    io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml
    mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
    se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
    vo wa wo xh yi yo za zh zu
    """.split()
)

#: In the openEHR ``languages`` code set though not (or no longer) ISO 639-1, marked DEPRECATED there; a
#: composition using them still uses a code of the openEHR code set, so they are accepted.
OPENEHR_LEGACY_LANGUAGES: frozenset[str] = frozenset({"ji", "sb", "sx", "sz"})

#: Language-region tags in the openEHR code set whose region is not an ISO 3166-1 code (``cb`` = Caribbean).
OPENEHR_LANGUAGE_TAGS: frozenset[str] = frozenset({"en-cb"})

ISO_3166_1: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW
    """.split()
)

#: In the openEHR ``countries`` code set though withdrawn from ISO 3166-1 (Netherlands Antilles, 2010).
OPENEHR_LEGACY_TERRITORIES: frozenset[str] = frozenset({"AN"})

#: IANA character sets: preferred MIME names and the aliases met in practice (matching is case-insensitive).
IANA_CHARSETS: tuple[str, ...] = (
    # Unicode
    "UTF-8", "UTF-16", "UTF-16BE", "UTF-16LE", "UTF-32", "UTF-32BE", "UTF-32LE", "UTF-7", "CESU-8",
    "ISO-10646-UTF-1", "ISO-10646-UCS-2", "csUnicode", "ISO-10646-UCS-4", "csUCS4", "SCSU", "BOCU-1",
    "csUTF8", "csUTF16", "csUTF32", "csUTF7",
    # ASCII
    "US-ASCII", "ANSI_X3.4-1968", "ANSI_X3.4-1986", "iso-ir-6", "ISO_646.irv:1991", "ISO646-US", "us",
    "IBM367", "cp367", "csASCII",
    # ISO 8859 family: preferred name, registered full name and common aliases
    "ISO-8859-1", "ISO_8859-1", "ISO_8859-1:1987", "iso-ir-100", "latin1", "l1", "IBM819", "CP819",
    "csISOLatin1",
    "ISO-8859-2", "ISO_8859-2", "ISO_8859-2:1987", "iso-ir-101", "latin2", "l2", "csISOLatin2",
    "ISO-8859-3", "ISO_8859-3", "ISO_8859-3:1988", "iso-ir-109", "latin3", "l3", "csISOLatin3",
    "ISO-8859-4", "ISO_8859-4", "ISO_8859-4:1988", "iso-ir-110", "latin4", "l4", "csISOLatin4",
    "ISO-8859-5", "ISO_8859-5", "ISO_8859-5:1988", "iso-ir-144", "cyrillic", "csISOLatinCyrillic",
    "ISO-8859-6", "ISO_8859-6", "ISO_8859-6:1987", "iso-ir-127", "ECMA-114", "ASMO-708", "arabic",
    "csISOLatinArabic", "ISO-8859-6-E", "ISO-8859-6-I",
    "ISO-8859-7", "ISO_8859-7", "ISO_8859-7:1987", "iso-ir-126", "ELOT_928", "ECMA-118", "greek", "greek8",
    "csISOLatinGreek",
    "ISO-8859-8", "ISO_8859-8", "ISO_8859-8:1988", "iso-ir-138", "hebrew", "csISOLatinHebrew",
    "ISO-8859-8-E", "ISO-8859-8-I",
    "ISO-8859-9", "ISO_8859-9", "ISO_8859-9:1989", "iso-ir-148", "latin5", "l5", "csISOLatin5",
    "ISO-8859-10", "ISO_8859-10:1992", "iso-ir-157", "latin6", "l6", "csISOLatin6",
    "ISO-8859-13", "ISO-8859-14", "ISO_8859-14", "latin8", "l8", "ISO-8859-15", "ISO_8859-15", "Latin-9",
    "ISO-8859-16", "ISO_8859-16", "latin10", "l10",
    # Windows and other single-byte sets
    "windows-1250", "windows-1251", "windows-1252", "windows-1253", "windows-1254", "windows-1255",
    "windows-1256", "windows-1257", "windows-1258", "windows-874", "TIS-620", "KOI8-R", "csKOI8R", "KOI8-U",
    "macintosh", "mac", "csMacintosh",
    "IBM437", "cp437", "437", "IBM850", "cp850", "850", "IBM852", "cp852", "IBM855", "cp855", "IBM857",
    "cp857", "IBM860", "cp860", "IBM861", "cp861", "IBM862", "cp862", "IBM863", "cp863", "IBM864", "cp864",
    "IBM865", "cp865", "IBM866", "cp866", "IBM869", "cp869", "IBM00858", "CCSID00858", "IBM037", "cp037",
    "IBM01140",
    # East Asian
    "Shift_JIS", "MS_Kanji", "csShiftJIS", "Windows-31J", "EUC-JP", "csEUCPkdFmtJapanese",
    "Extended_UNIX_Code_Packed_Format_for_Japanese", "ISO-2022-JP", "csISO2022JP", "ISO-2022-JP-2",
    "csISO2022JP2", "ISO-2022-KR", "csISO2022KR", "EUC-KR", "csEUCKR", "KS_C_5601-1987", "GB2312",
    "csGB2312", "GBK", "CP936", "MS936", "windows-936", "GB18030", "HZ-GB-2312", "Big5", "csBig5",
    "Big5-HKSCS", "ISO-2022-CN", "ISO-2022-CN-EXT",
)

#: Registered top-level media types (IANA Media Types registry).
MEDIA_TOP_LEVEL_TYPES: frozenset[str] = frozenset(
    {"application", "audio", "example", "font", "haptics", "image", "message", "model", "multipart", "text",
     "video"}
)

#: Media types common in health records: the openEHR ``media_types`` code set plus widely used ones.
COMMON_MEDIA_TYPES: tuple[str, ...] = (
    # openEHR code set
    "audio/DVI4", "audio/G722", "audio/G723", "audio/G726-16", "audio/G726-24", "audio/G726-32",
    "audio/G726-40", "audio/G728", "audio/L8", "audio/L16", "audio/LPC", "audio/G729", "audio/G729D",
    "audio/G729E", "video/BT656", "video/CelB", "video/JPEG", "video/H261", "video/H263", "video/H263-1998",
    "video/H263-2000", "video/H264", "video/MPV", "video/mp4", "video/ogg", "video/mpeg", "audio/basic",
    "audio/mpeg", "audio/mpeg3", "audio/mpeg4-generic", "audio/mp4", "audio/L20", "audio/L24",
    "audio/telephone-event", "audio/ogg", "audio/vorbis", "video/quicktime", "text/calendar",
    "text/directory", "text/html", "text/plain", "text/richtext", "text/rtf", "text/rfc822-headers",
    "text/sgml", "text/tab-separated-values", "text/uri-list", "text/xml", "text/xml-external-parsed-entity",
    "image/avif", "image/bmp", "image/cgm", "image/gif", "image/png", "image/tiff", "image/jpeg", "image/jp2",
    "image/svg+xml", "application/cda+xml", "application/EDIFACT", "application/fhir+json",
    "application/fhir+xml", "application/hl7v2+xml", "application/gzip", "application/json",
    "application/msword", "application/pdf", "application/rtf", "application/dicom", "application/dicom+json",
    "application/dicom+xml", "application/octet-stream", "application/ogg",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation", "application/vnd.oasis.opendocument.graphics",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/vnd.ms-outlook",
    "application/vnd.ms-xpsdocument", "application/vnd.rar", "application/zip",
    # widely used besides
    "application/xml", "application/hl7-v2", "application/x-www-form-urlencoded", "text/csv", "text/css",
    "text/markdown", "image/webp", "image/heic", "audio/wav", "audio/webm", "video/webm",
    "multipart/related", "multipart/mixed", "message/rfc822", "model/stl",
)
