//! PII.* about a person: date of birth, person name, street address, VIN, IMEI.
//!
//! - DATE_OF_BIRTH (`PII.DATE_OF_BIRTH`): a valid date (`1985-03-12`, `12/03/1985`,
//!   `12.03.1985`, `March 12, 1985`, `12 March 1985`, `12-Mar-1985`) next to a birth
//!   word; eight digits (`19850312`) or a two-digit year (`12/03/85`) only right after
//!   one or under its column. A date alone is a meeting, an invoice, a log line.
//! - PERSON_NAME (`PII.PERSON_NAME`): a capitalised given name from the built-in
//!   gazetteer followed by a capitalised surname (higher confidence when the surname
//!   is in the gazetteer too), or a title (`Mr.`, `Dr.`, ...) or a name word (`my name
//!   is`, `patient`) followed by capitalised words. The gazetteer terms are keywords
//!   like the context words; the shared trigger hits (`triggers.rs`) look for them only
//!   at capital letters, which costs no pass of their own.
//! - STREET_ADDRESS (`PII.STREET_ADDRESS`): a house number, one to four capitalised
//!   words (the first may be a direction or a numbered street's ordinal: `W`, `5th`)
//!   and a street suffix (`221 Baker Street`, `1600 Pennsylvania Ave NW`), extended
//!   over a unit (`Apt 4B`), `, City`, a US state and ZIP (or ZIP+4) or a UK postcode
//!   when they follow.
//! - VIN (`PII.VIN`): 17 characters without I, O, Q and with the check digit.
//! - IMEI (`PII.IMEI`): 15 digits, Luhn; context unless written `35-209900-176148-1`.

use super::{Candidate, Detector, Input, Need, NumberRule, TokenRule, class_info, keywords};
use crate::scan::validators::{imei_valid, vin_valid};
use crate::scan::{ClassInfo, Severity};

/// Context words for a date of birth.
pub(crate) static DOB_WORDS: &[&str] = &[
    "dob",
    "d.o.b",
    "date of birth",
    "birth date",
    "birthdate",
    "birthday",
    "born",
    "geboren",
    "geburtsdatum",
    "né le",
    "née le",
    "date de naissance",
    // `date_naissance`, `fecha_nacimiento`: column names fold `_` to a space.
    "date naissance",
    "fecha de nacimiento",
    "fecha nacimiento",
    "data di nascita",
    "data nascita",
    "data de nascimento",
    "data nascimento",
    "geboortedatum",
    "data urodzenia",
];
/// Words of table headers and labels over people's names, looked for by the trigger
/// pass: `name` is one only after a [`NAME_QUALIFIERS`] word (`full_name`, `Patient
/// Name`), the others alone (`Vorname`, `surname`). See [`PERSON_HEADERS`].
pub(crate) static NAME_HEADERS: &[&str] = &[
    "name",
    "surname",
    "forename",
    "vorname",
    "nachname",
    "prenom",
    "apellido",
    "apellidos",
    "cognome",
    "full name",
];

/// Words before `name` that may make it a person's: `Full name`, `patient_name`.
const NAME_QUALIFIERS: &[&str] = &[
    "full", "customer", "client", "patient", "employee", "contact", "member", "first", "last",
    "given", "family", "legal",
];

/// The headers and labels whose cells and values are read as people's names, whether or
/// not the gazetteer knows them, and how many capitalised words each holds. Not a plain
/// `Name` (files, products, places, teams), nor `Customer name` and `Contact name`
/// (companies as often as people): there, a name must be one the gazetteer knows.
const PERSON_HEADERS: &[(&str, usize, usize)] = &[
    ("full name", 2, 4),
    ("patient name", 2, 4),
    ("employee name", 2, 4),
    ("legal name", 2, 4),
    ("first name", 1, 2),
    ("last name", 1, 2),
    ("given name", 1, 2),
    ("family name", 1, 2),
    ("surname", 1, 2),
    ("forename", 1, 2),
    ("vorname", 1, 2),
    ("nachname", 1, 2),
    ("prenom", 1, 2),
    ("apellido", 1, 2),
    ("apellidos", 1, 2),
    ("cognome", 1, 2),
];

/// Words of a header row that make its table one of people (`email`, `Phone`,
/// `date_of_birth`, `Ort`).
const PERSON_COLUMNS: &[&str] = &[
    "email",
    "mail",
    "phone",
    "telefon",
    "telephone",
    "mobile",
    "dob",
    "birth",
    "birthdate",
    "birthday",
    "geburtsdatum",
    "address",
    "adresse",
    "street",
    "strasse",
    "city",
    "ort",
    "zip",
    "postcode",
    "plz",
    "ssn",
    "gender",
    "salary",
    "patient",
    "mrn",
    "first",
    "given",
    "vorname",
    "nachname",
    "surname",
    "forename",
];

/// Name cues and titles; the given names and surnames of the gazetteer.
pub(crate) static NAME_WORDS: &[&str] = &[
    "my name is",
    "name:",
    "full name",
    "patient",
    "customer",
    "employee",
    "contact person",
    "signed",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "prof.",
    "mr ",
    "mrs ",
    "ms ",
    "dr ",
    // German's and French's (`Herr Schulz`, `Frau Hoffmann`, `Mme Lefèvre`).
    "herr ",
    "frau ",
    "mme ",
    "mme. ",
];
/// Weekdays, whole and abbreviated (lowercase). With [`MONTHS`], after a given name
/// that is also one (`Jan`, `June`, `Sun`), they make a calendar, not a name.
const WEEKDAYS: &[&str] = &[
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Titles (a subset of [`NAME_WORDS`]) after which capitalised words are a name.
pub(crate) static TITLES: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "prof.", "mr ", "mrs ", "ms ", "dr ", "herr ", "frau ", "mme ",
    "mme. ",
];
/// Given names (lowercase). Common English words (`will`, `may`, `mark`, `bill`) are
/// left out on purpose: capitalised at a sentence start they are not names.
pub(crate) static GIVEN_NAMES: &[&str] = &[
    "james",
    "john",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "christopher",
    "daniel",
    "matthew",
    "anthony",
    "donald",
    "steven",
    "paul",
    "andrew",
    "joshua",
    "kenneth",
    "kevin",
    "brian",
    "george",
    "timothy",
    "ronald",
    "edward",
    "jason",
    "jeffrey",
    "ryan",
    "jacob",
    "gary",
    "nicholas",
    "eric",
    "jonathan",
    "stephen",
    "larry",
    "justin",
    "scott",
    "brandon",
    "benjamin",
    "samuel",
    "gregory",
    "alexander",
    "patrick",
    "jack",
    "dennis",
    "jerry",
    "tyler",
    "aaron",
    "henry",
    "peter",
    "ethan",
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "nancy",
    "lisa",
    "betty",
    "margaret",
    "sandra",
    "ashley",
    "kimberly",
    "emily",
    "donna",
    "michelle",
    "carol",
    "amanda",
    "dorothy",
    "melissa",
    "deborah",
    "stephanie",
    "rebecca",
    "sharon",
    "laura",
    "cynthia",
    "kathleen",
    "amy",
    "angela",
    "shirley",
    "anna",
    "brenda",
    "pamela",
    "emma",
    "nicole",
    "helen",
    "samantha",
    "katherine",
    "christine",
    "debra",
    "rachel",
    "catherine",
    "carolyn",
    "janet",
    "maria",
    "heather",
    "diane",
    "julie",
    "olivia",
    "sophia",
    "isabella",
    "charlotte",
    "amelia",
    "jane",
    "alice",
    "lucy",
    "oliver",
    "harry",
    "noah",
    "liam",
    "lucas",
    "hannah",
    "lea",
    "lena",
    "lukas",
    "leon",
    "felix",
    "jonas",
    "maximilian",
    "paul",
    "sophie",
    "marie",
    "mia",
    "lina",
    "hans",
    "klaus",
    "jürgen",
    "stefan",
    "andreas",
    "thomas",
    "julia",
    "jean",
    "pierre",
    "louis",
    "camille",
    "chloé",
    "manon",
    "inès",
    "hugo",
    "léa",
    "théo",
    "nathalie",
    "isabelle",
    "sylvie",
    "françois",
    "josé",
    "juan",
    "carlos",
    "javier",
    "miguel",
    "alejandro",
    "lucía",
    "carmen",
    "sofía",
    "mateo",
    "diego",
    "pablo",
    "marco",
    "giulia",
    "francesco",
    "alessandro",
    "giuseppe",
    "luca",
    "chiara",
    "priya",
    "rahul",
    "amit",
    "anjali",
    "arjun",
    "deepak",
    "sunita",
    "rajesh",
    "vikram",
    "ananya",
    "wei",
    "mei",
    "hiroshi",
    "yuki",
    "kenji",
    "aiko",
    "mohammed",
    "muhammad",
    "ahmed",
    "fatima",
    "aisha",
    "omar",
    "ali",
    "hassan",
    "olga",
    "ivan",
    "dmitri",
    "anastasia",
    "piotr",
    "katarzyna",
    "agnieszka",
    "eva",
    "jan",
    "lars",
    "erik",
    "ingrid",
    "sven",
    "astrid",
    // More, as registers of the United States, Ireland, the Arab world, India, West and
    // East Africa, East Asia and Europe give them (names that are also words or places
    // left out).
    "harold",
    "walter",
    "arthur",
    "albert",
    "ralph",
    "eugene",
    "russell",
    "wayne",
    "philip",
    "howard",
    "frederick",
    "lawrence",
    "raymond",
    "carl",
    "keith",
    "roger",
    "gerald",
    "douglas",
    "jose",
    "adam",
    "nathan",
    "zachary",
    "kyle",
    "jeremy",
    "travis",
    "bryan",
    "dylan",
    "evan",
    "cody",
    "derek",
    "trevor",
    "shawn",
    "marcus",
    "jesse",
    "dustin",
    "bradley",
    "craig",
    "alan",
    "shane",
    "seth",
    "vincent",
    "ricardo",
    "eduardo",
    "luis",
    "jorge",
    "manuel",
    "francisco",
    "antonio",
    "rafael",
    "fernando",
    "sergio",
    "roberto",
    "raul",
    "alberto",
    "hector",
    "ramon",
    "enrique",
    "andres",
    "oscar",
    "cesar",
    "julio",
    "guillermo",
    "alfredo",
    "gustavo",
    "ernesto",
    "arturo",
    "rodrigo",
    "gabriel",
    "emmanuel",
    "adrian",
    "marcos",
    "tomas",
    "santiago",
    "sebastian",
    "nicolas",
    "joaquin",
    "emilio",
    "ignacio",
    "felipe",
    "tyrone",
    "darnell",
    "jamal",
    "deshawn",
    "marquis",
    "terrell",
    "dwayne",
    "lamar",
    "andre",
    "darius",
    "malik",
    "jermaine",
    "cedric",
    "reginald",
    "kendrick",
    "demetrius",
    "jalen",
    "keisha",
    "latoya",
    "tamika",
    "shanice",
    "aaliyah",
    "imani",
    "tanisha",
    "lakisha",
    "monique",
    "shaniqua",
    "kiara",
    "deja",
    "natalie",
    "abigail",
    "alexis",
    "kayla",
    "megan",
    "lauren",
    "brittany",
    "danielle",
    "tiffany",
    "christina",
    "erin",
    "andrea",
    "courtney",
    "alicia",
    "jacqueline",
    "teresa",
    "gloria",
    "evelyn",
    "judith",
    "joan",
    "martha",
    "frances",
    "marilyn",
    "beverly",
    "denise",
    "tammy",
    "theresa",
    "diana",
    "kathryn",
    "sara",
    "judy",
    "cheryl",
    "mildred",
    "irene",
    "lois",
    "norma",
    "paula",
    "wanda",
    "bonnie",
    "tina",
    "rita",
    "connie",
    "lori",
    "vanessa",
    "valerie",
    "veronica",
    "sylvia",
    "edith",
    "gladys",
    "vivian",
    "doris",
    "kristen",
    "kristin",
    "katie",
    "allison",
    "alyssa",
    "brianna",
    "hailey",
    "haley",
    "jenna",
    "jillian",
    "kaitlyn",
    "kathy",
    "kelsey",
    "leslie",
    "lindsay",
    "lindsey",
    "marissa",
    "melanie",
    "miranda",
    "molly",
    "monica",
    "natasha",
    "paige",
    "priscilla",
    "rachael",
    "renee",
    "rosa",
    "sabrina",
    "shannon",
    "sheila",
    "stacy",
    "tara",
    "tracy",
    "vicki",
    "wendy",
    "yolanda",
    "zoe",
    "brooke",
    "ella",
    "chloe",
    "zoey",
    "nora",
    "layla",
    "aubrey",
    "addison",
    "eleanor",
    "natalia",
    "leah",
    "audrey",
    "claire",
    "naomi",
    "elena",
    "ariana",
    "gabriella",
    "eliana",
    "cora",
    "jocelyn",
    "ellie",
    "sadie",
    "lydia",
    "isla",
    "madeline",
    "elijah",
    "aiden",
    "grayson",
    "wyatt",
    "owen",
    "caleb",
    "isaac",
    "luke",
    "jayden",
    "landon",
    "gavin",
    "connor",
    "easton",
    "jaxon",
    "nolan",
    "cameron",
    "colton",
    "dominic",
    "brayden",
    "xavier",
    "declan",
    "asher",
    "ezra",
    "theodore",
    "silas",
    "siobhan",
    "aoife",
    "niamh",
    "ciara",
    "saoirse",
    "sinead",
    "orla",
    "roisin",
    "eoin",
    "cian",
    "oisin",
    "padraig",
    "seamus",
    "cormac",
    "fionn",
    "brendan",
    "conor",
    "kieran",
    "ronan",
    "darragh",
    "youssef",
    "yusuf",
    "mustafa",
    "ibrahim",
    "khalid",
    "tariq",
    "karim",
    "hamza",
    "bilal",
    "amir",
    "rashid",
    "samir",
    "nasser",
    "walid",
    "zainab",
    "mariam",
    "maryam",
    "leila",
    "yasmin",
    "salma",
    "amira",
    "rania",
    "khadija",
    "samira",
    "nadia",
    "farah",
    "tahir",
    "faisal",
    "imran",
    "ayesha",
    "rohit",
    "sanjay",
    "vijay",
    "suresh",
    "ramesh",
    "mahesh",
    "anil",
    "sunil",
    "manoj",
    "ravi",
    "ajay",
    "arun",
    "pooja",
    "neha",
    "divya",
    "kavya",
    "sneha",
    "shreya",
    "lakshmi",
    "meera",
    "aditya",
    "rohan",
    "karan",
    "nikhil",
    "siddharth",
    "varun",
    "vivek",
    "akash",
    "gaurav",
    "harish",
    "prakash",
    "anita",
    "usha",
    "nisha",
    "ritu",
    "swati",
    "preeti",
    "shalini",
    "deepa",
    "aarav",
    "vihaan",
    "ishaan",
    "saanvi",
    "aditi",
    "tanvi",
    "olumide",
    "chinedu",
    "emeka",
    "oluwaseun",
    "adebayo",
    "babatunde",
    "chukwuemeka",
    "ngozi",
    "chioma",
    "adaeze",
    "folake",
    "yetunde",
    "funmilayo",
    "kwame",
    "kofi",
    "abena",
    "kwabena",
    "thabo",
    "sipho",
    "nomvula",
    "themba",
    "amara",
    "wanjiru",
    "wambui",
    "haruto",
    "takeshi",
    "satoshi",
    "kazuki",
    "naoko",
    "keiko",
    "yoko",
    "minji",
    "jiwoo",
    "seojun",
    "jisoo",
    "thanh",
    "huong",
    "trang",
    "aleksandr",
    "sergei",
    "nikolai",
    "vladimir",
    "alexei",
    "mikhail",
    "tatiana",
    "svetlana",
    "irina",
    "ekaterina",
    "marta",
    "tomasz",
    "krzysztof",
    "pawel",
    "magdalena",
    "malgorzata",
    "małgorzata",
    "joanna",
    "ewa",
    "zofia",
    "jakub",
    "wojciech",
    "marek",
    "michal",
    "lukasz",
    "kamil",
    "bartosz",
    "dorota",
    "matthias",
    "tobias",
    "markus",
    "florian",
    "niklas",
    "moritz",
    "philipp",
    "johannes",
    "wolfgang",
    "günter",
    "helmut",
    "dieter",
    "birgit",
    "petra",
    "ursula",
    "monika",
    "sabine",
    "claudia",
    "susanne",
    "katrin",
    "anke",
    "heike",
    "silke",
    "antoine",
    "julien",
    "mathieu",
    "guillaume",
    "olivier",
    "philippe",
    "christophe",
    "benoit",
    "sébastien",
    "céline",
    "aurélie",
    "émilie",
    "sandrine",
    "valérie",
    "stéphanie",
    "élodie",
    "mathilde",
    "margaux",
    "giovanni",
    "matteo",
    "lorenzo",
    "stefano",
    "paolo",
    "federica",
    "francesca",
    "alessia",
    "martina",
    "valentina",
    "elisa",
    "silvia",
    "joão",
    "tiago",
    "beatriz",
    "mariana",
    "thiago",
    "rafaela",
    "fernanda",
    "juliana",
    "camila",
    "gabriela",
    "larissa",
    "leticia",
    "letícia",
    "anders",
    "nils",
    "björn",
    "bjorn",
    "magnus",
    "henrik",
    "mikael",
    "karin",
    "elin",
    "sigrid",
    "maja",
    "linnea",
    "johanna",
    "kirsten",
    "mette",
];
/// [`GIVEN_NAMES`] as a set: looked up for every capitalised word a rule weighs.
pub(crate) static GIVEN_SET: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| GIVEN_NAMES.iter().copied().collect());
/// [`SURNAMES`] as a set.
pub(crate) static SURNAME_SET: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| SURNAMES.iter().copied().collect());
/// Surnames (lowercase).
pub(crate) static SURNAMES: &[&str] = &[
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "doe",
    "müller",
    "mueller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "schulz",
    "hoffmann",
    "koch",
    "richter",
    "dupont",
    "durand",
    "dubois",
    "moreau",
    "laurent",
    "lefebvre",
    "bernard",
    "petit",
    "rossi",
    "russo",
    "ferrari",
    "esposito",
    "bianchi",
    "romano",
    "colombo",
    "fernández",
    "fernandez",
    "gómez",
    "díaz",
    "sharma",
    "patel",
    "singh",
    "kumar",
    "gupta",
    "reddy",
    "iyer",
    "khan",
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "tanaka",
    "suzuki",
    "sato",
    "watanabe",
    "kim",
    "park",
    "choi",
    "kowalski",
    "nowak",
    "wiśniewski",
    "ivanov",
    "petrov",
    "johansson",
    "andersson",
    "nielsen",
    "hansen",
    "jensen",
    "o'brien",
    "murphy",
    "kelly",
    "walsh",
    "byrne",
    "evans",
    "hughes",
    "edwards",
    "cooper",
    "ward",
    // More, as the same registers give them (short ones and those that are also words
    // left out).
    "jenkins",
    "okafor",
    "adeyemi",
    "alvarez",
    "peterson",
    "ramos",
    "reyes",
    "morales",
    "ortiz",
    "gutierrez",
    "chavez",
    "vasquez",
    "castillo",
    "jimenez",
    "moreno",
    "romero",
    "herrera",
    "medina",
    "vargas",
    "castro",
    "mendoza",
    "ruiz",
    "delgado",
    "contreras",
    "estrada",
    "rojas",
    "pereira",
    "oliveira",
    "souza",
    "almeida",
    "carvalho",
    "ferreira",
    "rodrigues",
    "alves",
    "gomes",
    "barbosa",
    "ribeiro",
    "cardoso",
    "teixeira",
    "nunes",
    "mendes",
    "bailey",
    "richardson",
    "watson",
    "bennett",
    "myers",
    "foster",
    "sanders",
    "powell",
    "sullivan",
    "russell",
    "perry",
    "butler",
    "barnes",
    "fisher",
    "henderson",
    "coleman",
    "simmons",
    "patterson",
    "reynolds",
    "hamilton",
    "graham",
    "wallace",
    "hayes",
    "bryant",
    "gibson",
    "ellis",
    "stevens",
    "murray",
    "marshall",
    "owens",
    "mcdonald",
    "harrison",
    "kennedy",
    "tucker",
    "crawford",
    "boyd",
    "dixon",
    "gordon",
    "holmes",
    "robertson",
    "daniels",
    "palmer",
    "nichols",
    "ferguson",
    "hawkins",
    "perkins",
    "spencer",
    "gardner",
    "stephens",
    "payne",
    "matthews",
    "arnold",
    "willis",
    "watkins",
    "olson",
    "carroll",
    "duncan",
    "snyder",
    "cunningham",
    "andrews",
    "harper",
    "armstrong",
    "greene",
    "elliott",
    "lawson",
    "franklin",
    "richards",
    "williamson",
    "johnston",
    "morrison",
    "harvey",
    "burton",
    "stanley",
    "jacobs",
    "reid",
    "fuller",
    "lynch",
    "gilbert",
    "garrett",
    "welch",
    "larson",
    "frazier",
    "burke",
    "hanson",
    "bowman",
    "fowler",
    "hoffman",
    "carlson",
    "pearson",
    "fleming",
    "davidson",
    "hopkins",
    "caldwell",
    "jennings",
    "barnett",
    "shelton",
    "barrett",
    "sutton",
    "mckinney",
    "fletcher",
    "bates",
    "haynes",
    "mcdaniel",
    "mendez",
    "vaughn",
    "dawson",
    "norris",
    "schultz",
    "guzman",
    "munoz",
    "keller",
    "chandler",
    "leonard",
    "ramsey",
    "mullins",
    "benson",
    "bowen",
    "cummings",
    "baldwin",
    "griffith",
    "valdez",
    "hubbard",
    "salazar",
    "stevenson",
    "burgess",
    "thornton",
    "mcgee",
    "aguilar",
    "glover",
    "cohen",
    "harmon",
    "rodgers",
    "higgins",
    "ingram",
    "strickland",
    "townsend",
    "goodwin",
    "walton",
    "ortega",
    "swanson",
    "maldonado",
    "erickson",
    "hodges",
    "adkins",
    "webster",
    "malone",
    "hammond",
    "osborne",
    "mccarthy",
    "guerrero",
    "sandoval",
    "fitzgerald",
    "doyle",
    "saunders",
    "alvarado",
    "padilla",
    "ballard",
    "schwartz",
    "mcbride",
    "christensen",
    "zimmerman",
    "buchanan",
    "copeland",
    "mccormick",
    "holloway",
    "figueroa",
    "roberson",
    "harrington",
    "cortez",
    "clarke",
    "wilkins",
    "mckenzie",
    "phelps",
    "mcguire",
    "wilkerson",
    "okonkwo",
    "okoye",
    "nwosu",
    "eze",
    "adebayo",
    "adeleke",
    "mensah",
    "owusu",
    "boateng",
    "asante",
    "otieno",
    "kamau",
    "mwangi",
    "njoroge",
    "ndlovu",
    "dlamini",
    "nkosi",
    "ahmad",
    "hussein",
    "abdullah",
    "rahman",
    "hassan",
    "mahmoud",
    "mansour",
    "haddad",
    "khalil",
    "nasser",
    "aziz",
    "qureshi",
    "siddiqui",
    "chaudhry",
    "malik",
    "mehta",
    "shah",
    "joshi",
    "desai",
    "nair",
    "menon",
    "pillai",
    "rao",
    "verma",
    "agarwal",
    "chopra",
    "kapoor",
    "malhotra",
    "bhat",
    "banerjee",
    "chatterjee",
    "mukherjee",
    "bose",
    "huang",
    "zhao",
    "zhou",
    "zhu",
    "guo",
    "gao",
    "luo",
    "zheng",
    "liang",
    "xie",
    "tang",
    "feng",
    "deng",
    "cao",
    "peng",
    "yamamoto",
    "nakamura",
    "kobayashi",
    "kato",
    "yoshida",
    "yamada",
    "sasaki",
    "matsumoto",
    "inoue",
    "kimura",
    "hayashi",
    "shimizu",
    "tran",
    "pham",
    "hoang",
    "phan",
    "vu",
    "dang",
    "bui",
    "ngo",
    "kang",
    "cho",
    "yoon",
    "jang",
    "lim",
    "wojcik",
    "kowalczyk",
    "kaminski",
    "lewandowski",
    "zielinski",
    "szymanski",
    "wozniak",
    "dabrowski",
    "kozlowski",
    "jankowski",
    "mazur",
    "kwiatkowski",
    "krawczyk",
    "smirnov",
    "kuznetsov",
    "popov",
    "sokolov",
    "lebedev",
    "kozlov",
    "novikov",
    "morozov",
    "volkov",
    "schäfer",
    "schafer",
    "bauer",
    "schröder",
    "schroder",
    "neumann",
    "schwarz",
    "zimmermann",
    "krüger",
    "kruger",
    "hofmann",
    "hartmann",
    "werner",
    "krause",
    "lehmann",
    "köhler",
    "kohler",
    "girard",
    "bonnet",
    "dupuis",
    "lambert",
    "fontaine",
    "rousseau",
    "vincent",
    "muller",
    "lefevre",
    "faure",
    "andre",
    "mercier",
    "guerin",
    "boyer",
    "garnier",
    "chevalier",
    "francois",
    "legrand",
    "gauthier",
    "perrin",
    "morin",
    "nicolas",
    "henry",
    "roussel",
    "mathieu",
    "gautier",
    "masson",
    "ricci",
    "marino",
    "greco",
    "gallo",
    "conti",
    "giordano",
    "mancini",
    "rizzo",
    "lombardi",
    "moretti",
    "barbieri",
    "fontana",
    "santoro",
    "mariani",
    "rinaldi",
    "caruso",
    "svensson",
    "karlsson",
    "nilsson",
    "eriksson",
    "larsson",
    "olsson",
    "persson",
    "gustafsson",
    "pettersson",
    "jonsson",
    "lindberg",
    "rasmussen",
    "christiansen",
    "andersen",
    "pedersen",
    "larsen",
    "sorensen",
];
/// Street suffixes (as written, case-sensitive).
const STREET_SUFFIXES: &[&str] = &[
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Boulevard",
    "Blvd",
    "Lane",
    "Ln",
    "Drive",
    "Dr",
    "Court",
    "Ct",
    "Way",
    "Place",
    "Pl",
    "Terrace",
    "Parkway",
    "Pkwy",
    "Highway",
    "Hwy",
    "Circle",
    "Cir",
    "Square",
    "Sq",
    "Close",
    "Crescent",
    "Gardens",
    "Grove",
    "Row",
    "Strasse",
    "Straße",
];
/// The street suffixes that are abbreviations: a dot right after one is part of it.
const ABBREVIATED_SUFFIXES: &[&str] = &[
    "St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Pl", "Pkwy", "Hwy", "Cir", "Sq",
];
/// Context words for a street address (they raise its confidence). `ship to` is
/// written with what follows it: a bare `ship to` would also match inside
/// `membership token` and, keywords hiding the ones they overlap, hide `token`.
pub(crate) static ADDRESS_WORDS: &[&str] = &[
    "address",
    "lives at",
    "ship to ",
    "ship to:",
    "located at",
    "residence",
];
/// Context words for an IMEI.
pub(crate) static IMEI_WORDS: &[&str] = &["imei", "device id", "handset"];
/// Context words for a VIN.
pub(crate) static VIN_WORDS: &[&str] = &["vin", "vehicle identification", "chassis"];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];
const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC",
];

/// Detects personal data about one person.
#[derive(Debug)]
pub(crate) struct PersonalDetector {
    dob: ClassInfo,
    name: ClassInfo,
    address: ClassInfo,
    vin: TokenRule,
    imei: NumberRule,
}

impl PersonalDetector {
    pub(crate) fn new() -> Self {
        PersonalDetector {
            dob: class_info("PII.DATE_OF_BIRTH", "DATE_OF_BIRTH", Severity::Medium),
            name: class_info("PII.PERSON_NAME", "PERSON_NAME", Severity::Medium),
            address: class_info("PII.STREET_ADDRESS", "STREET_ADDRESS", Severity::Medium),
            vin: TokenRule {
                info: class_info("PII.VIN", "VIN", Severity::Medium),
                lengths: 17..=17,
                validate: vin_valid,
                words: VIN_WORDS,
                needs_context: false,
                base: 0.85,
            },
            imei: NumberRule {
                info: class_info("PII.IMEI", "IMEI", Severity::Medium),
                lengths: 15..=15,
                separators: b"- ",
                groups: &[2, 6, 6, 1],
                validate: imei_valid,
                words: IMEI_WORDS,
                need: Need::ContextUnlessFormatted,
                base: 0.8,
            },
        }
    }
}

impl Detector for PersonalDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![
            self.dob.clone(),
            self.name.clone(),
            self.address.clone(),
            self.vin.info.clone(),
            self.imei.info.clone(),
        ]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        self.vin.detect(input, out);
        self.imei.detect(input, out);
        self.numeric_dates(input, out);
        self.addresses(input, out);
        // A written date (or eight digits of one) filling a cell under a birth word's
        // column.
        for (_, start, end) in input.column_values(input.trigger_hits(), DOB_WORDS) {
            let compact = end == start + 8
                && input
                    .bytes
                    .get(start..end)
                    .is_some_and(|d| d.iter().all(u8::is_ascii_digit) && compact_date(d));
            if compact || textual_date_after(input, start) == Some((start, end)) {
                out.extend(input.finding(&self.dob, start, end, 0.85));
            }
        }
        self.name_columns(input, out);
        for hit in input.trigger_hits() {
            if hit.is_in(DOB_WORDS) {
                if let Some((start, end)) = textual_date_after(input, hit.end) {
                    out.extend(input.finding(&self.dob, start, end, 0.85));
                }
            } else if hit.is_in(GIVEN_NAMES) {
                self.name_from_given(input, hit.start, hit.end, out);
            } else if hit.is_in(TITLES) || hit.is_in(NAME_WORDS) {
                // `MS Windows`, `DR` in a table: a title in capitals is an acronym.
                let acronym = hit.is_in(TITLES)
                    && input
                        .bytes
                        .get(hit.start..hit.end)
                        .is_some_and(|t| t.iter().filter(|b| b.is_ascii_uppercase()).count() >= 2);
                if acronym {
                    continue;
                }
                let mut from = skip_spaces(input, hit.end);
                // `Full name: Tjark Ubbens`, `Full name<TAB>…`: the label's separator.
                // (Not a key of code or data: `full_name: New Zealand`.)
                let identifier = input
                    .bytes
                    .get(hit.start..hit.end)
                    .is_some_and(|w| w.contains(&b'_') || w.contains(&b'-'))
                    || matches!(input.byte_before(hit.start), Some(b'_' | b'-'));
                if !hit.is_in(TITLES) && !hit.word.ends_with(':') && !identifier {
                    from = label_value_start(input, from).unwrap_or(from);
                }
                if let Some(end) = capitalised_run(input, from, 3)
                    && (hit.is_in(TITLES) || end > from)
                {
                    let words = input
                        .text
                        .get(from..end)
                        .unwrap_or_default()
                        .split(' ')
                        .count();
                    let value = input.text.get(from..end).unwrap_or_default();
                    // After a title or `my name is`, capitalised words are a name; after
                    // `Name:`, not a team's or a type's (`Name: Order Service`).
                    let cue_only = !hit.is_in(TITLES) && hit.word != "my name is";
                    // After a title one word; after a cue two (one capitalised word after
                    // `first_name:` is as often a translation file's); none after a
                    // person header written as a key (`full_name: New Zealand`).
                    let least = if hit.is_in(TITLES) {
                        1
                    } else if hit.word == "name:"
                        && identifier
                        && person_header(input.bytes, hit).is_some()
                    {
                        usize::MAX
                    } else {
                        2
                    };
                    if words >= least && (!cue_only || of_people(value)) {
                        out.extend(input.finding(&self.name, from, end, 0.75));
                    }
                }
            } else if hit.is_in(NAME_HEADERS)
                && let Some(&(_, least, most)) = person_header(input.bytes, hit)
                // Written as words (`Full name:`), not as a key of code or data
                // (`full_name: New Zealand` in a table of countries).
                && !matches!(input.byte_before(hit.start), Some(b'_' | b'-'))
                && let Some(from) = label_value_start(input, skip_spaces(input, hit.end))
                && let Some(end) = capitalised_run(input, from, 4)
            {
                // A label and its value: `Full name: Tjark Ubbens`, `Nachname: Ubbens`.
                let value = input.text.get(from..end).unwrap_or_default();
                // The value ends its line, or a field of a list (`Name: Tjark Ubbens,
                // Email: …`); not code (`first_name: String,` and a line break).
                let rest = input.bytes.get(end..).unwrap_or_default();
                let blank = rest
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
                let ends = match rest.get(blank..).unwrap_or_default() {
                    [] | [b'\n' | b'\r', ..] => true,
                    [b',' | b';' | b'|', b' ', next, ..] => !matches!(next, b'\n' | b'\r'),
                    _ => false,
                };
                // One capitalised word after a label is as often a translation file's
                // (`last_name: Nume`) or a form's status (`Surname: Pending`): a label's
                // value is two words or more.
                if ends && person_cell(value, least.max(2)..=most) {
                    out.extend(input.finding(&self.name, from, end, 0.75));
                }
            }
        }
    }
}

impl PersonalDetector {
    /// The cells of a column that a [`PERSON_HEADERS`] header heads on its own (the
    /// whole header cell: `full_name`, `"Patient Name"`, `Vorname`; not `nickname`),
    /// each read as a name when [`person_cell`] says it is one.
    fn name_columns<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let bytes = input.bytes;
        let mut people: std::collections::HashMap<usize, bool> = Default::default();
        for (head, start, end) in input.column_values(input.trigger_hits(), NAME_HEADERS) {
            let Some(&(phrase, least, most)) = person_header(bytes, &head) else {
                continue;
            };
            let Some((lo, hi)) = input.header_cell(start, end) else {
                continue;
            };
            let header: String = String::from_utf8_lossy(bytes.get(lo..hi).unwrap_or_default())
                .trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace())
                .chars()
                .map(|c| match c {
                    '_' | '-' => ' ',
                    c => c.to_ascii_lowercase(),
                })
                .collect();
            if header != phrase {
                continue;
            }
            // `full_name`, `family_name` and `legal_name` head countries, currencies,
            // product families and companies too: only beside a column of another
            // personal detail are they people's.
            if matches!(phrase, "full name" | "family name" | "legal name") {
                // Read once per header.
                let of_people = match people.get(&head.start) {
                    Some(&known) => known,
                    None => {
                        let known = keywords::short_line(bytes, head.start, head.end)
                            .and_then(|(from, to)| bytes.get(from..to))
                            .is_some_and(|line| {
                                line.split(|b| !b.is_ascii_alphanumeric()).any(|w| {
                                    PERSON_COLUMNS
                                        .iter()
                                        .any(|p| w.eq_ignore_ascii_case(p.as_bytes()))
                                })
                            });
                        people.insert(head.start, known);
                        known
                    }
                };
                if !of_people {
                    continue;
                }
            }
            let Some(cell) = input.text.get(start..end) else {
                continue;
            };
            let trimmed = cell.trim_matches(|c: char| c == '"' || c == '\'' || c == ' ');
            let at = start + cell.find(trimmed).unwrap_or(0);
            if person_cell(trimmed, least..=most) {
                out.extend(input.finding(&self.name, at, at + trimmed.len(), 0.7));
            }
        }
    }

    /// `Jane Doe`: a given name, capitalised as a name, then capitalised words.
    fn name_from_given<'s>(
        &'s self,
        input: &Input<'_>,
        start: usize,
        end: usize,
        out: &mut Vec<Candidate<'s>>,
    ) {
        let Some(word) = input.text.get(start..end) else {
            return;
        };
        let capitals = in_capitals(word);
        if !(is_capitalised(word) || capitals) || !input.word_boundary_after(end) {
            return;
        }
        // A register's order, surname first: `JONES, MARY`, `Walker, Linda`, `SMITH,
        // JOHN A` (with a middle initial or name).
        if let Some((surname, titled)) = surname_before_comma(input, start, capitals) {
            let (_, given_end) = hyphenated_name(input, start, end);
            let last = middle_name_end(input, given_end, capitals).unwrap_or(given_end);
            // In running text the name ends its field: `Brown, Robert said no` and `Mr.
            // White, Scott is here` are sentences. (In capitals a record's next field
            // follows: `SMITH, JOHN DOB 01/02/1960`.)
            // After a title the words are a name, whatever follows (`M. DUBOIS Marie a
            // appelé`).
            let ends_field = capitals
                || titled
                || matches!(
                    input.bytes.get(last..).unwrap_or_default(),
                    [] | [b'\n' | b'\r' | b',' | b';' | b')' | b'|' | b'\t' | b'"', ..]
                        | [b'.', b' ' | b'\n' | b'\r', ..]
                        | [b'.']
                        | [b' ', b'<' | b'|' | b'-' | b'0'..=b'9', ..]
                        // Another name of a list (see `lists_more_names`).
                        | [b' ', b'a', b'n', b'd', b' ', ..]
                        | [b' ', b'&', b' ', ..]
                        // Another initial, a note or a year: `A. B.`, `(MD)`, `(1999)`.
                        | [b' ', b'A'..=b'Z', b'.', ..]
                        | [b' ', b'(', b'A'..=b'Z' | b'a'..=b'z', ..]
                        | [b' ', b'(', b'1' | b'2', b'0'..=b'9', b'0'..=b'9', b'0'..=b'9', b')', ..]
                );
            if ends_field
                && !WORDLIKE_GIVEN_NAMES.contains(&word.to_lowercase().as_str())
                && !lists_more_names(input, last)
            {
                out.extend(input.finding(&self.name, surname, last, 0.8));
            }
            return;
        }
        let place = after_saint(input, start);
        // In capitals (`JOHN SMITH`, a form's or a statement's style), only a surname
        // the gazetteer knows follows: capitals are also headings, product codes and
        // shouting (`RJ45 JACK BROWN`, `03 JAN WARD 7`, `ST. LOUIS PARK`).
        if capitals {
            if place || WORDLIKE_GIVEN_NAMES.contains(&word.to_lowercase().as_str()) {
                return;
            }
            let after_middle = middle_name_end(input, end, true);
            let surname_end = known_surname_in_capitals(input, end + 1)
                .or_else(|| known_surname_in_capitals(input, after_middle? + 1));
            if input.byte(end) == Some(b' ')
                && let Some(surname_end) = surname_end
                && !names_a_place(input, surname_end)
            {
                out.extend(input.finding(&self.name, start, surname_end, 0.8));
            }
            return;
        }
        // A double given name is one name: `Jean-Pierre`, `Anne-Marie`, whichever half
        // the gazetteer knows.
        let (start, end) = hyphenated_name(input, start, end);
        if input.byte(end) != Some(b' ') {
            return;
        }
        // A middle initial between the given name and the surname: `Jane Q. Public`.
        let initial = input.byte(end + 1).is_some_and(|b| b.is_ascii_uppercase())
            && input.bytes.get(end + 2..end + 4) == Some(b". ");
        let surname_at = if initial { end + 4 } else { end + 1 };
        // The surname in capitals, as French and other registers write it (`Marie
        // DUBOIS`): one the gazetteer knows (`John ASAP` is no name).
        if !place && let Some(surname_end) = known_surname_in_capitals(input, surname_at) {
            out.extend(input.finding(&self.name, start, surname_end, 0.8));
            return;
        }
        let Some(name_end) = capitalised_run(input, surname_at, 2) else {
            return;
        };
        let following = input.text.get(surname_at..name_end).unwrap_or_default();
        // `Jan Feb Mar`, `Mon Tue`: a calendar's words, not a name.
        if following
            .split(' ')
            .map(str::to_lowercase)
            .any(|w| MONTHS.contains(&w.as_str()) || WEEKDAYS.contains(&w.as_str()))
        {
            return;
        }
        let surname = following
            .split(' ')
            .next_back()
            .unwrap_or_default()
            .to_lowercase();
        let confidence = if SURNAME_SET.contains(surname.as_str()) {
            0.85
        } else {
            0.65
        };
        out.extend(input.finding(&self.name, start, name_end, confidence));
    }

    /// Numeric dates next to a birth word (before or after); with a two-digit year
    /// (`03/03/81`) or written without separators (`19810303`, `03031981`), only after
    /// one (`DOB: 03/03/81`): those shapes are as often a code or a count.
    fn numeric_dates<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let groups = input.digit_groups();
        // A birth word right before the date, nothing but a separator between
        // (`DOB 19810303`, `"dob": "19810303"`, `D.O.B. 03/03/81`, `DOB - 19810303`).
        let labelled = |start: usize| {
            let mut at = start;
            while at > 0
                && input.byte(at - 1).is_some_and(|b| {
                    matches!(b, b' ' | b':' | b'=' | b'"' | b'\'' | b'\t' | b'.' | b'-')
                })
            {
                at -= 1;
            }
            at < start
                && DOB_WORDS.iter().any(|w| {
                    at.checked_sub(w.len()).is_some_and(|from| {
                        input
                            .bytes
                            .get(from..at)
                            .is_some_and(|b| b.eq_ignore_ascii_case(w.as_bytes()))
                            && input.word_boundary_before(from)
                    })
                })
        };
        for (i, a) in groups.iter().enumerate() {
            if a.len() == 8
                && input.standalone_number(a.start, a.end)
                && input.bytes.get(a.start..a.end).is_some_and(compact_date)
                && labelled(a.start)
            {
                out.extend(input.finding(&self.dob, a.start, a.end, 0.8));
            }
            let Some([b, c]) = groups
                .get(i + 1..i + 3)
                .and_then(|s| <&[_; 2]>::try_from(s).ok())
            else {
                continue;
            };
            let Some(sep) = input.joiner(*a, *b, b"-/.") else {
                continue;
            };
            // An ISO 8601 date at midnight (`1981-03-03T00:00:00Z`, as JSON writes a
            // date): the date alone is the value. A time of day is a timestamp, which
            // a birth word nearby does not make a birthday (`dob changed at
            // 2023-06-01T12:00:00Z`).
            let with_time =
                sep == b'-' && a.len() == 4 && input.bytes.get(c.end..c.end + 6) == Some(b"T00:00");
            if input.joiner(*b, *c, &[sep]).is_none()
                || !(input.standalone_number(a.start, c.end)
                    || (with_time && input.word_boundary_before(a.start)))
            {
                continue;
            }
            let value = |g: &super::DigitGroup| {
                input
                    .bytes
                    .get(g.start..g.end)
                    .unwrap_or_default()
                    .iter()
                    .fold(0u32, |acc, &d| {
                        acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
                    })
            };
            let (x, y, z) = (value(a), value(b), value(c));
            let valid = match (a.len(), b.len(), c.len()) {
                (4, 1..=2, 1..=2) => year_ok(x) && (1..=12).contains(&y) && (1..=31).contains(&z),
                (1..=2, 1..=2, 4) => {
                    year_ok(z)
                        && (((1..=12).contains(&y) && (1..=31).contains(&x))
                            || ((1..=12).contains(&x) && (1..=31).contains(&y)))
                }
                (1..=2, 1..=2, 2) => {
                    sep != b'.'
                        && (((1..=12).contains(&y) && (1..=31).contains(&x))
                            || ((1..=12).contains(&x) && (1..=31).contains(&y)))
                        && labelled(a.start)
                }
                _ => false,
            };
            if !valid {
                continue;
            }
            let context = input.context_within(a.start, c.end, 40, 24, DOB_WORDS);
            if context.any() {
                out.extend(input.finding(&self.dob, a.start, c.end, context.boost(0.75)));
            }
        }
    }

    /// `221 Baker Street, London NW1 6XE`, `1600 Pennsylvania Ave NW, Washington, DC 20500`.
    fn addresses<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        for g in input.digit_groups() {
            if g.len() > 6
                || !input.word_boundary_before(g.start)
                || input.byte(g.end) != Some(b' ')
            {
                continue;
            }
            let Some(street_end) = street_after(input, g.end + 1) else {
                continue;
            };
            let end = locality_after(input, street_end);
            let context = input.context(g.start, end, ADDRESS_WORDS);
            // A numbered street (`350 5th Ave`) needs its city or an address word: `2
            // 3rd Place` is a ranking.
            if input.byte(g.end + 1).is_some_and(|b| b.is_ascii_digit())
                && end == street_end
                && !context.any()
            {
                continue;
            }
            out.extend(input.finding(&self.address, g.start, end, context.boost(0.7)));
        }
    }
}

/// The most hyphenated parts a name is extended by on each side (`Anne-Marie`,
/// `Smith-Jones-Brown`): a text of `John-John-John-...` is not read whole from every
/// `John` in it.
const MAX_HYPHENATED_PARTS: usize = 4;

/// Widens the name word `start..end` over capitalised words joined to it by hyphens,
/// before and after (`Jean-Pierre` from `Pierre` or from `Jean`).
fn hyphenated_name(input: &Input<'_>, mut start: usize, mut end: usize) -> (usize, usize) {
    let is_name_char = |c: char| c.is_alphabetic() || matches!(c, '\'' | '’');
    let mut parts = 0;
    while input.byte_before(start) == Some(b'-') && parts < MAX_HYPHENATED_PARTS {
        parts += 1;
        let Some(before) = input.text.get(..start - 1) else {
            break;
        };
        let word_start = before
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_name_char(c))
            .last()
            .map(|(i, _)| i);
        match word_start {
            Some(w)
                if input.word_boundary_before(w) && before.get(w..).is_some_and(is_capitalised) =>
            {
                start = w;
            }
            _ => break,
        }
    }
    let mut parts = 0;
    while input.byte(end) == Some(b'-') && parts < MAX_HYPHENATED_PARTS {
        parts += 1;
        let Some(after) = input.text.get(end + 1..) else {
            break;
        };
        let len = after
            .char_indices()
            .find(|&(_, c)| !is_name_char(c))
            .map_or(after.len(), |(i, _)| i);
        if len > 0
            && after.get(..len).is_some_and(is_capitalised)
            && input.word_boundary_after(end + 1 + len)
        {
            end += 1 + len;
        } else {
            break;
        }
    }
    (start, end)
}

/// Whether eight digits are a date: `YYYYMMDD`, `DDMMYYYY` or `MMDDYYYY`, the year
/// as [`year_ok`] has it.
fn compact_date(d: &[u8]) -> bool {
    let n = |r: std::ops::Range<usize>| {
        d.get(r)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let day_month = |a: u32, b: u32| (1..=31).contains(&a) && (1..=12).contains(&b);
    (year_ok(n(0..4)) && day_month(n(6..8), n(4..6)))
        || (year_ok(n(4..8)) && (day_month(n(0..2), n(2..4)) || day_month(n(2..4), n(0..2))))
}

pub(crate) fn year_ok(y: u32) -> bool {
    (1900..=2030).contains(&y)
}

/// Whether no word of `value` is one of a team's, a company's or an account's name
/// (`Sales Team`, `ACME Corp`), or a type of code (`String`).
fn of_people(value: &str) -> bool {
    // What a column of accounts, teams or companies holds beside people's names, types
    // of code and schemas (`first_name: String`), a form's other labels (`E-Mail`,
    // `Wohnort` in a header row) and what a form says instead of a name (`Not Provided`,
    // `Siehe Anlage`). Not words that are surnames too (`Long`, `Bank`, `Guest`).
    const NOT_PEOPLE: &[&str] = &[
        "team",
        "teams",
        "service",
        "services",
        "group",
        "department",
        "dept",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "ag",
        "corp",
        "company",
        "support",
        "sales",
        "admin",
        "office",
        "account",
        "accounts",
        "project",
        "report",
        "server",
        "system",
        "desk",
        "help",
        "info",
        "marketing",
        "finance",
        "billing",
        "operations",
        "engineering",
        "hospital",
        "clinic",
        "university",
        "school",
        "centre",
        "store",
        "shop",
        "club",
        "foundation",
        "agency",
        "partners",
        "holdings",
        "international",
        "global",
        "solutions",
        "technologies",
        "labs",
        "media",
        "news",
        "user",
        "users",
        "test",
        "demo",
        "example",
        "default",
        "unknown",
        "anonymous",
        "bot",
        "noreply",
        "mailbox",
        "list",
        "committee",
        "council",
        "network",
        "cloud",
        "data",
        "app",
        "api",
        "portal",
        "platform",
        "product",
        "products",
        "customer",
        "customers",
        "contact",
        "contacts",
        "security",
        "compliance",
        "facilities",
        "string",
        "str",
        "option",
        "vec",
        "text",
        "integer",
        "int",
        "number",
        "boolean",
        "bool",
        "varchar",
        "object",
        "array",
        "map",
        "none",
        "null",
        "true",
        "false",
        "required",
        "optional",
        "type",
        "name",
        "names",
        "mail",
        "e-mail",
        "email",
        "ort",
        "wohnort",
        "abteilung",
        "adresse",
        "address",
        "city",
        "phone",
        "telefon",
        "telephone",
        "strasse",
        "straße",
        "nascita",
        "completo",
        "luogo",
        "geburtsdatum",
        "surname",
        "vorname",
        "nachname",
        "forename",
        "firstname",
        "lastname",
        "not",
        "see",
        "siehe",
        "keine",
        "wie",
        "vedi",
        "ver",
        "as",
        "pflichtfeld",
        "pflichtangabe",
        "provided",
        "specified",
        "attached",
        "above",
        "oben",
        "sopra",
        "anexo",
        "anlage",
        "angabe",
        "redacted",
        "withheld",
        "hired",
        "position",
        "vacant",
        "tbd",
        "manager",
        "engineer",
        "director",
        "developer",
        "analyst",
        "consultant",
        "assistant",
        "agent",
        "operator",
        "administrator",
        "member",
        "premium",
        "bed",
        "room",
        "passport",
        "please",
        "print",
        "hidden",
        "privacy",
        "former",
        "encrypted",
        "field",
        "automation",
        "pipeline",
        "pipelines",
        "headcount",
        "backfill",
        "pending",
        "review",
        "card",
        "credit",
        "acme",
        "widget",
        "widgets",
        "mandatory",
        "obligatoire",
        "obligatorio",
        "obbligatorio",
    ];
    !value.split(' ').any(|w| {
        NOT_PEOPLE
            .iter()
            .chain(NAME_LABELS)
            .any(|n| w.eq_ignore_ascii_case(n))
    })
}

/// Whether a table cell reads as a person's name: capitalised words (`Tanja Krause`,
/// `Jean-Luc O'Neill`, `María José García`), as many as `words` allows, particles in
/// small letters between them (`Ludwig van Beethoven`), and [`of_people`].
fn person_cell(cell: &str, words: std::ops::RangeInclusive<usize>) -> bool {
    if !of_people(cell) {
        return false;
    }
    let mut capitalised = 0;
    for (i, word) in cell.split(' ').enumerate() {
        if is_capitalised(word) && word.chars().count() >= 2 && word.len() <= 24 {
            capitalised += 1;
        } else if !(i > 0 && PARTICLES.contains(&word)) {
            return false;
        }
    }
    words.contains(&capitalised) && cell.split(' ').next_back().is_some_and(is_capitalised)
}

/// Whether `word` is written as a name: a capital, then lowercase letters; a capital is
/// also allowed right after an apostrophe or a hyphen (`O'Connor`, `D’Angelo`,
/// `Smith-Jones`) and after a leading `Mc` or `Mac` (`McDonald`, `MacArthur`).
fn is_capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    if !chars.next().is_some_and(char::is_uppercase) || chars.clone().next().is_none() {
        return false;
    }
    let mut previous = ' ';
    for (i, c) in word.char_indices().skip(1) {
        let joins = matches!(c, '\'' | '’' | '-');
        let capital_ok = matches!(previous, '\'' | '’' | '-')
            || (i == 2 && word.starts_with("Mc"))
            || (i == 3 && word.starts_with("Mac"));
        if !(c.is_lowercase() || joins || (c.is_uppercase() && capital_ok)) {
            return false;
        }
        if joins && matches!(previous, '\'' | '’' | '-') {
            return false;
        }
        previous = c;
    }
    !matches!(previous, '\'' | '’' | '-')
}

/// Given names that, in capitals or after a comma, are as often a word of a product
/// code, a date, a list or a place (`3.5MM JACK`, `SKINNY JEAN`, `HEATHER GREEN`, `03
/// JAN`, `CAROL SINGERS`, `Colours: Green, Heather`, `KING, JACK`).
const WORDLIKE_GIVEN_NAMES: &[&str] = &["jack", "jean", "jan", "heather", "carol"];

/// Whether the word at `start` follows `St.` or `Saint` (`St. Louis Park`, `ST JOHN
/// WARD`): a place's name, not a person's.
fn after_saint(input: &Input<'_>, start: usize) -> bool {
    let before = input.bytes.get(..start).unwrap_or_default();
    let before = before.strip_suffix(b" ").unwrap_or(before);
    let before = before.strip_suffix(b".").unwrap_or(before);
    [&b"st"[..], b"saint", b"ste"]
        .iter()
        .any(|w| ends_with_word(before, w))
}

/// Whether `bytes` ends with the word `word` (in any ASCII case), not with a longer
/// word that ends so.
fn ends_with_word(bytes: &[u8], word: &[u8]) -> bool {
    bytes.len() >= word.len()
        && bytes[bytes.len() - word.len()..].eq_ignore_ascii_case(word)
        && bytes
            .len()
            .checked_sub(word.len() + 1)
            .is_none_or(|i| !bytes[i].is_ascii_alphanumeric())
}

/// The end of a middle initial or name after a given name ending at `end`, written as
/// it is (in capitals, or capitalised): ` A`, ` A.`, or one word the gazetteer knows
/// as a given name or a surname (`JONES, MARY ELIZABETH`, `SMITH, JOHN ALLEN`).
fn middle_name_end(input: &Input<'_>, end: usize, capitals: bool) -> Option<usize> {
    if input.byte(end) != Some(b' ') {
        return None;
    }
    let at = end + 1;
    if input.byte(at).is_some_and(|b| b.is_ascii_uppercase())
        && !input
            .byte(at + 1)
            .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return Some(at + 1 + usize::from(input.byte(at + 1) == Some(b'.')));
    }
    let rest = input.text.get(at..)?;
    let len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || matches!(c, '\'' | '’' | '-')))
        .map_or(rest.len(), |(i, _)| i);
    let word = rest.get(..len)?;
    let written = if capitals {
        in_capitals(word)
    } else {
        is_capitalised(word)
    };
    let lower = word.to_lowercase();
    (written && (GIVEN_SET.contains(lower.as_str()) || SURNAME_SET.contains(lower.as_str())))
        .then_some(at + len)
}

/// Whether a name read surname first, ending at `end`, is one of a list of surnames
/// (`Smith, Thomas and Lee (2019)`, `Young, Scott, & Lee`, `Martin, Thomas, Scott,
/// Kelly`) or a firm's name (`Baker, Thomas & Co`): after a comma, `and` or `&` comes a
/// name's word that starts no full name. A list of full names (`Garcia, Maria and David
/// Lee`, `Jones, Mary, Smith, John`) or anything else (`Walker, Linda B., RN`,
/// `Williams, David, The Book of Things`) is not.
fn lists_more_names(input: &Input<'_>, end: usize) -> bool {
    const FIRMS: &[&str] = &[
        "co",
        "sons",
        "associates",
        "partners",
        "company",
        "llp",
        "llc",
        "ltd",
        "inc",
    ];
    let rest = input.text.get(end..).unwrap_or_default();
    let comma = rest.starts_with(',');
    let rest = rest.strip_prefix(',').unwrap_or(rest);
    let Some(rest) = rest.strip_prefix(' ') else {
        return false;
    };
    let joined = ["& ", "and ", "AND "]
        .iter()
        .find_map(|j| rest.strip_prefix(j));
    if joined.is_none() && !comma {
        return false;
    }
    let rest = joined.unwrap_or(rest);
    let len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || c == '\''))
        .map_or(rest.len(), |(i, _)| i);
    let (next, after) = rest.split_at(len);
    let lower = next.to_lowercase();
    if FIRMS.contains(&lower.as_str()) {
        return true;
    }
    let given = GIVEN_SET.contains(lower.as_str());
    if !(given || SURNAME_SET.contains(lower.as_str())) {
        return false;
    }
    let word_after = |sep: &str| {
        after
            .strip_prefix(sep)
            .and_then(|a| a.split(|c: char| !c.is_alphabetic()).next())
            .filter(|w| w.chars().count() >= 2)
    };
    // A full name given first (`David Lee`), or surname first (`Lee, David`).
    let full_name = given && word_after(" ").is_some_and(|w| is_capitalised(w) || in_capitals(w));
    // Surname first (`Lee, David`), or in capitals before the given name (`MARTIN
    // Paul`).
    let is_given = |w: &str| GIVEN_SET.contains(w.to_lowercase().as_str());
    let surname_first = word_after(", ").is_some_and(is_given)
        || (in_capitals(next) && word_after(" ").is_some_and(|w| is_capitalised(w) && is_given(w)));
    !(full_name || surname_first)
}

/// Whether the word after a name in capitals ending at `end` (after a comma, if one
/// follows) makes the name a place's: `SCOTT HALL, ROOM 204`, `HENRY PARK ELEMENTARY
/// SCHOOL`, `MARY HILL ROAD`.
fn names_a_place(input: &Input<'_>, end: usize) -> bool {
    const PLACES: &[&str] = &[
        "road",
        "rd",
        "street",
        "st",
        "avenue",
        "ave",
        "lane",
        "drive",
        "way",
        "blvd",
        "school",
        "elementary",
        "high",
        "college",
        "university",
        "room",
        "residence",
        "auditorium",
        "branch",
        "library",
        "island",
        "park",
        "hall",
        "center",
        "centre",
        "building",
        "hospital",
        "church",
        "station",
        "estates",
        "tower",
        "house",
        "memorial",
        "campus",
        "wing",
        "ward",
        "bridge",
        "square",
        "court",
        "gardens",
    ];
    let rest = input.text.get(end..).unwrap_or_default();
    let rest = rest.strip_prefix(',').unwrap_or(rest);
    let Some(rest) = rest.strip_prefix(' ') else {
        return false;
    };
    let next = rest
        .split(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or_default();
    PLACES.contains(&next.to_lowercase().as_str())
}

/// The words for a person's name and its parts in other languages, as forms and
/// translation files give them (`first_name: Prénom`, `"lastName": "Nachname"`), in
/// small letters: no one's name.
pub(crate) const NAME_LABELS: &[&str] = &[
    "prénom",
    "prenom",
    "nom",
    "voornaam",
    "achternaam",
    "imię",
    "imie",
    "nazwisko",
    "nome",
    "sobrenome",
    "nombre",
    "apellidos",
    "apellido",
    "cognome",
    "förnamn",
    "efternamn",
    "fornavn",
    "etternavn",
    "efternavn",
    "etunimi",
    "sukunimi",
    "jméno",
    "příjmení",
    "keresztnév",
    "vezetéknév",
    "ad",
    "soyad",
    "soyadı",
    "familienname",
    "noms",
    "nomi",
    "nombres",
    "prénoms",
    "vorname",
    "vornamen",
    "nachname",
    "prenume",
    "nume",
    "isim",
    "ime",
    "prezime",
    "имя",
    "фамилия",
    "отчество",
    "όνομα",
    "επώνυμο",
    "ім'я",
    "прізвище",
    "імя",
    "прозвішча",
    "име",
    "презиме",
    "аты",
    "тегі",
    "անուն",
    "ազգանուն",
    "meno",
    "priezvisko",
    "vardas",
    "pavardė",
    "vārds",
    "uzvārds",
    "eesnimi",
    "perekonnanimi",
    "fornafn",
    "eftirnafn",
    "emri",
    "mbiemri",
    "tên",
    "họ",
    "nama",
    "depan",
    "belakang",
    "pangalan",
    "apelyido",
    "ainm",
    "sloinne",
    "cognoms",
    "priimek",
    "jmeno",
    "prijmeni",
    "sobrenombre",
];

/// Particles inside a name, written in small letters (`Ludwig van Beethoven`, `María de
/// la Cruz`).
pub(crate) const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "da", "del", "della", "di", "du", "la", "le", "bin", "al",
    "ten", "ter", "y",
];

/// Whether `word` is written in capitals as a name may be (`JOHN`, `O'BRIEN`,
/// `SMITH-JONES`, `MÜLLER`): two letters or more, the first and every ASCII one a
/// capital. (Normalisation lowers a capital beyond ASCII inside a word, so
/// `MÜLLER` reads `MüLLER` here; see `normalize.rs`.)
fn in_capitals(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && word.starts_with(char::is_uppercase)
        && word.chars().all(|c| {
            c.is_ascii_uppercase()
                || (!c.is_ascii() && c.is_alphabetic())
                || matches!(c, '\'' | '’' | '-')
        })
}

/// The end of the word in capitals at `at` when it is a surname the gazetteer knows
/// (`SMITH`, `O'BRIEN`, `MÜLLER`) and ends there (not `SMITHS`, `SMITHx`); before a
/// possessive's `'S`, the surname's end.
fn known_surname_in_capitals(input: &Input<'_>, at: usize) -> Option<usize> {
    let (rest, _) = bounded_rest(input, at, MAX_NAME_WORD)?;
    let len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || matches!(c, '\'' | '’' | '-')))
        .map_or(rest.len(), |(i, _)| i);
    let word = rest.get(..len)?;
    if rest[len..].starts_with(|c: char| c.is_alphanumeric()) {
        return None;
    }
    let word = word
        .strip_suffix("'S")
        .or_else(|| word.strip_suffix("’S"))
        .unwrap_or(word);
    (in_capitals(word) && SURNAME_SET.contains(word.to_lowercase().as_str()))
        .then_some(at + word.len())
}

/// Where the surname starts when the given name at `given` follows it and a comma
/// (`JONES, MARY`, `Walker, Linda`, `Müller, Klaus`): a surname the gazetteer knows,
/// written as the given name is (in capitals, or capitalised), that starts a record's
/// field (the line, a label's value, a cell, a parenthesis) or follows a title (`Dr.
/// Harris, Nancy`). In a sentence (`As for Lee, Anna was late`, `Ken Williams, David
/// Golden`) a comma before a given name is a sentence's.
///
/// Registers write the order in two more ways: in capitals with no space after the
/// comma, or with a slash as a ticket's name element does (`SMITH,JOHN A` of a
/// hospital's system, `SMITH/JOHN MR`); and with the surname in capitals before a
/// capitalised given name and a space (`DUBOIS Marie`, as French and other registers
/// write it).
///
/// Returns where the surname starts, and whether a title is before a surname in
/// capitals and a capitalised given name.
fn surname_before_comma(input: &Input<'_>, given: usize, capitals: bool) -> Option<(usize, bool)> {
    let spaced = given
        .checked_sub(2)
        .filter(|&c| input.bytes.get(c..given) == Some(b", "));
    let (comma, surname_in_capitals) = match (spaced, input.byte_before(given)) {
        (Some(comma), _) => (comma, capitals),
        (None, Some(b',' | b'/')) if capitals => (given - 1, true),
        (None, Some(b' ')) if !capitals => (given - 1, true),
        _ => return None,
    };
    let mut start = comma;
    while start > 0
        && input
            .byte(start - 1)
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'\'' || b == b'-' || !b.is_ascii())
        && comma - start < MAX_NAME_WORD
    {
        start -= 1;
    }
    if input.byte_before(start).is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    let word = input.text.get(start..comma)?;
    let written = if surname_in_capitals {
        in_capitals(word)
    } else {
        is_capitalised(word)
    };
    if !written || !SURNAME_SET.contains(word.to_lowercase().as_str()) {
        return None;
    }
    let before = input.bytes.get(..start).unwrap_or_default();
    let blank = before
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let before = &before[..before.len() - blank];
    // A field starts at a line, after a label's `:`, a cell's separator, two spaces
    // (`Emp ID 4411  WHITE, THOMAS`), a spaced dash, a list's number (`1. Robinson,
    // Daniel`), or `by` (`Reviewed by Brown, Robert`).
    let digit_before = |i: usize| {
        i.checked_sub(2)
            .and_then(|j| before.get(j))
            .is_some_and(u8::is_ascii_digit)
    };
    let field_start = match before.last() {
        None => true,
        Some(
            b'\n' | b'\r' | b':' | b'\t' | b'|' | b';' | b'(' | b'[' | b'"' | b'\'' | b'>' | b'=',
        ) => true,
        Some(b'-') => blank > 0,
        Some(b'.' | b')') => digit_before(before.len()),
        // A list's next name in the register's order (`DUBOIS Marie, MARTIN Paul`).
        Some(b',') => blank == 1 && surname_in_capitals && !capitals,
        Some(_) => blank >= 2 || (blank == 1 && ends_with_word(before, b"by")),
    };
    // Registers that write the surname first title it in their own language too
    // (`M. DUBOIS Marie`, `Mme DUBOIS Marie`, `Herr MÜLLER Klaus`).
    let title = blank > 0
        && (TITLES
            .iter()
            .any(|t| ends_with_word(before, t.trim_end().as_bytes()))
            || (surname_in_capitals
                && REGISTER_TITLES
                    .iter()
                    .any(|t| ends_with_word(before, t.as_bytes()))));
    // A title makes the words a name in a sentence too only in a register's order
    // (`M. DUBOIS Marie a appelé`); `Mr. White, Scott is here` speaks to Scott.
    let register = spaced.is_none() && !capitals;
    (field_start || title).then_some((start, title && register))
}

/// Titles of French, German, Spanish and Italian registers, as written before a
/// surname in capitals.
const REGISTER_TITLES: &[&str] = &[
    "M.", "Mme", "Mme.", "Mlle", "Herr", "Frau", "Sr.", "Sra.", "Sig.", "Sig.ra",
];

/// Whether a capitalised word may start at `from`: false at the end of the text and at
/// an ASCII byte other than a capital (the cheap test before splitting words; a
/// non-ASCII byte is left to [`is_capitalised`]).
/// The longest word read as part of a name or an address, in bytes. Words are read
/// within a window of this many bytes per word, so that a text with no spaces is not
/// read to its end from every capital in it.
const MAX_NAME_WORD: usize = 64;

/// `text[from..]`, cut to at most `limit` bytes (on a character boundary), and whether
/// it was cut.
fn bounded_rest<'t>(input: &Input<'t>, from: usize, limit: usize) -> Option<(&'t str, bool)> {
    let text = input.text;
    let mut to = from.saturating_add(limit);
    if to >= text.len() {
        return Some((text.get(from..)?, false));
    }
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    Some((text.get(from..to)?, true))
}

fn may_start_capitalised(input: &Input<'_>, from: usize) -> bool {
    input
        .byte(from)
        .is_some_and(|b| !b.is_ascii() || b.is_ascii_uppercase())
}

/// The [`PERSON_HEADERS`] entry a [`NAME_HEADERS`] hit reads as: its word, or `name`
/// with the [`NAME_QUALIFIERS`] word before it (`full name` for `Full name`,
/// `full_name`, `Full-Name`), if that is one.
fn person_header(
    bytes: &[u8],
    hit: &keywords::KeywordHit,
) -> Option<&'static (&'static str, usize, usize)> {
    match qualifier(bytes, hit) {
        Some(q) => PERSON_HEADERS
            .iter()
            .find(|(p, _, _)| p.strip_suffix(" name") == Some(q)),
        // `full name` is a [`NAME_WORDS`] cue too, found as one hit.
        None => PERSON_HEADERS.iter().find(|(p, _, _)| *p == hit.word),
    }
}

/// The [`NAME_QUALIFIERS`] word before a hit of `name` (`customer` for `Customer
/// name`, `customer_name`, `Customer-Name`), if there is one.
fn qualifier(bytes: &[u8], hit: &keywords::KeywordHit) -> Option<&'static str> {
    if (hit.word == "name" || hit.word == "name:")
        && let Some(gap) = hit.start.checked_sub(1)
        && matches!(bytes.get(gap), Some(b' ' | b'_' | b'-'))
    {
        // The longest qualifier and the byte before it.
        const REACH: usize = 9;
        let before = bytes
            .get(gap.saturating_sub(REACH)..gap)
            .unwrap_or_default();
        let word_at = before
            .iter()
            .rposition(|b| !b.is_ascii_alphabetic())
            .map_or(0, |p| p + 1);
        let word = before.get(word_at..).unwrap_or_default();
        // The qualifier starts the key (`family_name`, not `font_family_name`).
        let key_start = word_at
            .checked_sub(1)
            .and_then(|i| before.get(i))
            .is_none_or(|b| !matches!(b, b'_' | b'-' | b'.'));
        if (word_at > 0 || gap < REACH)
            && key_start
            && let Some(q) = NAME_QUALIFIERS
                .iter()
                .find(|q| word.eq_ignore_ascii_case(q.as_bytes()))
        {
            return Some(q);
        }
    }
    None
}

/// Where a label's value starts when `at` is at the label's separator: a `:` or a tab,
/// then spaces or tabs.
fn label_value_start(input: &Input<'_>, at: usize) -> Option<usize> {
    if !matches!(input.byte(at), Some(b':' | b'\t')) {
        return None;
    }
    let mut at = at + 1;
    while matches!(input.byte(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    Some(at)
}

fn skip_spaces(input: &Input<'_>, mut at: usize) -> usize {
    while input.byte(at) == Some(b' ') {
        at += 1;
    }
    at
}

/// The end of a run of 1..=`max` capitalised words separated by single spaces
/// starting at `from`, or `None` when the first word is not capitalised.
fn capitalised_run(input: &Input<'_>, from: usize, max: usize) -> Option<usize> {
    if !may_start_capitalised(input, from) {
        return None;
    }
    let (rest, cut) = bounded_rest(input, from, max * (MAX_NAME_WORD + 1))?;
    let mut end = None;
    let mut offset = 0;
    for word in rest.split(' ').take(max) {
        // A name ends at its line (`Thanks,\nJane Doe\nAcme`), and a name that is a
        // value of a record at its quote, tag, cell or field: `"Jane Doe"`,
        // `<name>Jane Doe</name>`, `Jane Doe,batch 7`, `Jane Doe;1981`, `'Jane Doe'`.
        let field = word
            .split(['"', '<', '|', ',', ';', '\n', '\r', '\t'])
            .next()
            .unwrap_or_default();
        // A word the window cuts may go on: too long for a name (unless its field
        // ended before the cut: `Smith` in `Smith\nToken: …`).
        if cut && offset + word.len() == rest.len() && field.len() == word.len() {
            break;
        }
        let clean = field.trim_end_matches([',', '.', ';', ':', '!', '?', ')', '\'']);
        // A possessive ends the name, without its `'s` (`James Clark's Expat`).
        let owner = clean
            .strip_suffix("'s")
            .or_else(|| clean.strip_suffix("’s"))
            .filter(|owner| owner.len() >= 2);
        let clean = owner.unwrap_or(clean);
        if !is_capitalised(clean) || clean.len() < 2 {
            break;
        }
        end = Some(from + offset + clean.len());
        if owner.is_some() || clean.len() != word.len() {
            break;
        }
        offset += word.len() + 1;
    }
    end
}

/// Capitalised words then a street suffix, starting at `from`: the end of the suffix
/// (and an optional NW/NE/SW/SE quadrant).
fn street_after(input: &Input<'_>, from: usize) -> Option<usize> {
    // The suffix counts only after a first, capitalised word, a numbered street's
    // ordinal (`5th Ave`) or a direction (`W Evergreen Terrace`).
    if !may_start_capitalised(input, from) {
        // Only an ordinal starts with a digit (read here, before any word is split: in
        // a text dense with numbers, most digit runs are followed by more digits).
        let digits = input
            .bytes
            .get(from..input.bytes.len().min(from + 4))
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let suffix = input.bytes.get(from + digits..from + digits + 2);
        if !(1..=3).contains(&digits) || !matches!(suffix, Some(b"st" | b"nd" | b"rd" | b"th")) {
            return None;
        }
    }
    let (rest, cut) = bounded_rest(input, from, 6 * (MAX_NAME_WORD + 1))?;
    let mut offset = 0;
    let mut directed = false;
    // Words end at any ASCII space byte: an address often ends its line.
    for (words, word) in rest.split([' ', '\t', '\n', '\r']).take(6).enumerate() {
        if cut && offset + word.len() == rest.len() {
            return None;
        }
        // A quoted value ends at its quote (`"street": "534 Erewhon St",`).
        let clean = word
            .split(['"', '<'])
            .next()
            .unwrap_or_default()
            .trim_end_matches([',', '.', ';', '\'']);
        // A direction needs a name after it (`W Evergreen Terrace`, not `W Ave`).
        if words >= 1 && !(words == 1 && directed) && STREET_SUFFIXES.contains(&clean) {
            let mut end = from + offset + clean.len();
            // `St.` keeps its abbreviation's dot; `Street.` ends a sentence.
            if clean.len() + 1 == word.len()
                && word.ends_with('.')
                && ABBREVIATED_SUFFIXES.contains(&clean)
            {
                end += 1;
            }
            if clean.len() == word.len()
                && let Some(q) = rest.get(offset + word.len() + 1..)
                && let Some(quad) = ["NW", "NE", "SW", "SE"].iter().find(|q2| {
                    q.starts_with(**q2)
                        && !q.as_bytes().get(2).is_some_and(u8::is_ascii_alphanumeric)
                })
            {
                end += 1 + quad.len();
            }
            return Some(unit_after(input, end));
        }
        // `10 W 5th Ave`: an ordinal after the direction.
        let numbered = (words == 0 && (ordinal(clean) || direction(word)))
            || (words == 1 && directed && ordinal(clean));
        directed = words == 0 && direction(word);
        if !numbered && (!is_capitalised(clean) || clean.len() != word.len()) || words == 4 {
            return None;
        }
        offset += word.len() + 1;
    }
    None
}

/// Whether `word` is an ordinal written with digits, as numbered streets are named
/// (`5th`, `42nd`, `1st`, `103rd`).
fn ordinal(word: &str) -> bool {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    (1..=3).contains(&digits)
        && word
            .get(digits..)
            .is_some_and(|s| matches!(s, "st" | "nd" | "rd" | "th"))
}

/// Whether `word` is a street's direction before its name (`W`, `N.`, `SW`).
fn direction(word: &str) -> bool {
    matches!(
        word,
        "N" | "S" | "E" | "W" | "N." | "S." | "E." | "W." | "NE" | "NW" | "SE" | "SW"
    )
}

/// Extends a street's end over a unit: `Apt 4B`, `Suite 200`, `Unit 5`, `Ste. 12`,
/// `#12`, after a space or `, `.
fn unit_after(input: &Input<'_>, end: usize) -> usize {
    const UNITS: &[&str] = &[
        "Apt ", "Apt. ", "Suite ", "Ste ", "Ste. ", "Unit ", "Fl ", "Floor ", "Bldg ", "Bldg. ",
        "Rm ", "#",
    ];
    let rest = input
        .bytes
        .get(end..input.bytes.len().min(end + 24))
        .unwrap_or_default();
    let (skip, after) = match rest.strip_prefix(b", ") {
        Some(after) => (2, after),
        None => (1, rest.strip_prefix(b" ").unwrap_or_default()),
    };
    let Some(unit) = UNITS.iter().find(|u| after.starts_with(u.as_bytes())) else {
        return end;
    };
    let id = after
        .get(unit.len()..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    let at = end + skip + unit.len();
    let id_ok = (1..=6).contains(&id)
        && input
            .byte(at)
            .is_some_and(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    if id_ok && input.word_boundary_after(at + id) {
        at + id
    } else {
        end
    }
}

/// Extends an address end over `, City`, `, ST 12345` (or ZIP+4) or a UK postcode.
fn locality_after(input: &Input<'_>, end: usize) -> usize {
    let mut best = end;
    let Some(rest) = input.text.get(end..) else {
        return end;
    };
    let Some(after_comma) = rest.strip_prefix(", ") else {
        return end;
    };
    let base = end + 2;
    // City: one to three capitalised words.
    let Some(city_end) = capitalised_run(input, base, 3) else {
        return end;
    };
    best = best.max(city_end);
    let tail = input.text.get(city_end..).unwrap_or_default();
    // US: ", ST 12345" or " ST 12345"
    let state_start = tail
        .strip_prefix(", ")
        .map(|_| city_end + 2)
        .or_else(|| tail.strip_prefix(' ').map(|_| city_end + 1));
    if let Some(s) = state_start
        && let Some(st) = input.text.get(s..s + 2)
        && US_STATES.contains(&st)
    {
        // A separator, then `len` digits: the ZIP (` 12345`) and its +4 (`-6789`).
        let part = |at: usize, sep: u8, len: usize| {
            input.byte(at) == Some(sep)
                && input
                    .bytes
                    .get(at + 1..at + 1 + len)
                    .is_some_and(|z| z.iter().all(u8::is_ascii_digit))
        };
        let mut e = s + 2;
        if part(e, b' ', 5) {
            e += 6;
            if part(e, b'-', 4) {
                e += 5;
            }
        }
        if input.word_boundary_after(e) {
            best = e;
        }
    } else if let Some(s) = state_start
        && let Some(pc) = uk_postcode_at(input, s)
    {
        best = pc;
    }
    let _ = after_comma;
    best
}

/// A UK postcode (`SW1A 2AA`, `NW1 6XE`, `M1 1AE`) at `at`: its end.
fn uk_postcode_at(input: &Input<'_>, at: usize) -> Option<usize> {
    let rest = input.bytes.get(at..)?;
    let space = rest.iter().take(5).position(|&b| b == b' ')?;
    let outward = rest.get(..space)?;
    let inward = rest.get(space + 1..space + 4)?;
    let out_ok = (2..=4).contains(&outward.len())
        && outward.first().is_some_and(u8::is_ascii_uppercase)
        && outward.iter().any(u8::is_ascii_digit)
        && outward
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let in_ok = super::shape(inward, b"9AA");
    let end = at + space + 4;
    (out_ok && in_ok && input.word_boundary_after(end)).then_some(end)
}

/// The length of `t` when it is a date with a month's abbreviation and no separator:
/// one or two digits of a day, three letters of a month, two or four of a year.
fn run_together_date(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    let day_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let month = b.get(day_len..day_len + 3)?;
    let year = b.get(day_len + 3..)?;
    let day = t.get(..day_len)?.parse::<u32>().ok()?;
    let month = std::str::from_utf8(month).ok()?.to_ascii_lowercase();
    ((1..=2).contains(&day_len)
        && (1..=31).contains(&day)
        && MONTHS.contains(&month.as_str())
        && (year.len() == 2 || year.len() == 4)
        && year.iter().all(u8::is_ascii_digit)
        && (year.len() == 2
            || std::str::from_utf8(year)
                .ok()?
                .parse::<u32>()
                .is_ok_and(year_ok)))
    .then_some(t.len())
}

/// A date written with a month name within 24 bytes after `from`: `12 March 1985`,
/// `March 12, 1985`, `12th of March 1985`.
fn textual_date_after(input: &Input<'_>, from: usize) -> Option<(usize, usize)> {
    let window_end = (from + 40).min(input.text.len());
    let window = input
        .text
        .get(from..window_end)
        .or_else(|| input.text.get(from..))?;
    let mut tokens: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for raw in window.split([' ', ',', '\t']).take(10) {
        // A value of a record: `"dob": "12 March 1985"`, `<dob>12 March 1985</dob>`,
        // `dob='12 March 1985'`. The quotes, tags and `:` or `=` around the words are
        // not part of them.
        let mut lead = raw.len() - raw.trim_start_matches(['"', '\'', ':', '=', '>']).len();
        // A label that ends its line with a colon, the date on the next line
        // (`Date of birth:` above `12 March 1985`).
        if raw.get(..lead).is_some_and(|l| l.ends_with(':')) {
            let rest = raw.get(lead..).unwrap_or_default();
            let next_line = rest.trim_start_matches('\r');
            if let Some(line) = next_line.strip_prefix('\n') {
                lead = raw.len() - line.len();
            }
        }
        let word = raw.get(lead..).unwrap_or_default();
        let word = word
            .find(['"', '\'', '<', '\n', '\r', '|', ';'])
            .and_then(|cut| word.get(..cut))
            .unwrap_or(word);
        if !word.is_empty() {
            tokens.push((from + offset + lead, word));
        }
        offset += raw.len() + 1;
    }
    let day = |s: &str| {
        let d = s.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
        d.len() <= 2 && d.parse::<u32>().is_ok_and(|v| (1..=31).contains(&v))
    };
    let month = |s: &str| MONTHS.contains(&s.trim_end_matches('.').to_lowercase().as_str());
    let year = |s: &str| {
        let y = s.trim_end_matches(['.', ';', ')']);
        y.len() == 4 && y.parse::<u32>().is_ok_and(year_ok)
    };
    // 03-Mar-1981, 03-MAR-81 (as Oracle prints dates), 03/Mar/1981: one token.
    let joined = |t: &str| {
        let t = t.trim_end_matches(['.', ';', ')']);
        // 14JUL1979, 03Mar81 (as forms and mainframes print dates): day, month, year
        // run together.
        if let Some(len) = run_together_date(t) {
            return Some(len);
        }
        let sep = t.find(['-', '/'])?;
        let parts: Vec<&str> = t.split(t.get(sep..=sep)?).collect();
        let [d, m, y] = parts.as_slice() else {
            return None;
        };
        let two_digit_year = y.len() == 2 && y.bytes().all(|b| b.is_ascii_digit());
        (day(d) && MONTHS.contains(&m.to_lowercase().as_str()) && (year(y) || two_digit_year))
            .then_some(t.len())
    };
    if let Some((start, len)) = tokens
        .iter()
        .take(4)
        .find_map(|&(start, t)| joined(t).map(|len| (start, len)))
    {
        return Some((start, start + len));
    }
    for (i, (start, t)) in tokens.iter().enumerate().take(4) {
        let (a, b, c) = (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3));
        // 12 March 1985 / 12th of March 1985
        if day(t) {
            if let (Some((_, m)), Some((ys, y))) = (a, b)
                && month(m)
                && year(y)
            {
                return Some((*start, ys + y.trim_end_matches(['.', ';', ')']).len()));
            }
            if let (Some((_, of)), Some((_, m)), Some((ys, y))) = (a, b, c)
                && *of == "of"
                && month(m)
                && year(y)
            {
                return Some((*start, ys + y.trim_end_matches(['.', ';', ')']).len()));
            }
        }
        // March 12, 1985
        if month(t)
            && let (Some((_, d)), Some((ys, y))) = (a, b)
            && day(d)
            && year(y)
        {
            return Some((*start, ys + y.trim_end_matches(['.', ';', ')']).len()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_capitalised;

    #[test]
    fn names_are_capitalised_as_names() {
        for word in [
            "Jane",
            "O'Connor",
            "D’Angelo",
            "McDonald",
            "MacArthur",
            "Smith-Jones",
            "Élodie",
        ] {
            assert!(is_capitalised(word), "{word}");
        }
        for word in [
            "jane",
            "J",
            "JANE",
            "McDONALD",
            "aBout",
            "O''Neil",
            "Smith-",
            "MaCArthur",
            "Jo-",
        ] {
            assert!(!is_capitalised(word), "{word}");
        }
    }
}
