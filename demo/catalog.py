"""The fixed catalog the demo builds from: the consortia and the CTE course templates."""

from dataclasses import dataclass

from organisations.grades import GradeScale


@dataclass(frozen=True)
class ConsortiumSpec:
    slug: str
    name: str
    code: str
    fee: int
    scale: str
    minimum: str
    opens: tuple[int, int]  # month, day (July-December: the school year's first calendar year)
    closes: tuple[int, int]
    payment: tuple[int, int]
    grading: tuple[int, int]
    colleges: tuple[tuple[str, str], ...]  # (name, code)
    early_days: int = 30  # current year: how long before today the window opened, if shifted
    older_minimum: str = ""  # a different minimum grade two or more years back
    waivers: str = ""


L_, P_, PC = GradeScale.LETTER, GradeScale.POINTS, GradeScale.PERCENT
# fmt: off
CONSORTIA: tuple[ConsortiumSpec, ...] = (
    ConsortiumSpec(
        "cascade-foothills", "Cascade Foothills CTE Dual Credit Consortium", "CF", 50, L_, "B",
        (12, 1), (6, 15), (6, 20), (6, 25),
        (("Cascade Foothills Community College", "CFCC"), ("Timberline Technical College", "TTC")),
        early_days=30, older_minimum="C",
    ),
    ConsortiumSpec(
        "salish-shore", "Salish Shore Career Pathways Consortium", "SS", 0, L_, "C",
        (9, 15), (5, 31), (5, 31), (6, 20), (("Salish Shore College", "SSC"),), early_days=45,
    ),
    ConsortiumSpec(
        "columbia-plateau", "Columbia Plateau Tech Prep Consortium", "CP", 35, PC, "85",
        (10, 1), (6, 1), (6, 10), (6, 20),
        (("Columbia Plateau Community College", "CPCC"), ("Basin Technical College", "BTC")),
        early_days=20, older_minimum="80",
        waivers="Free or reduced-price lunch\nFinancial hardship\nFoster youth\n"
        "McKinney-Vento eligible",
    ),
    ConsortiumSpec(
        "olympic-coast", "Olympic Coast Dual Credit Partnership", "OC", 50, P_, "3.0",
        (11, 1), (6, 10), (6, 15), (6, 22), (("Olympic Coast College", "OCC"),), early_days=25,
    ),
    ConsortiumSpec(
        "palouse-hills", "Palouse Hills Tech Prep Consortium", "PH", 25, L_, "C",
        (1, 5), (6, 1), (6, 5), (6, 15), (("Palouse Hills Community College", "PHCC"),),
        early_days=40,
    ),
    ConsortiumSpec(
        "okanogan-highlands", "Okanogan Highlands CTE Consortium", "OH", 0, L_, "B-",
        (9, 1), (6, 15), (6, 15), (6, 25), (("Okanogan Highlands College", "OHC"),),
    ),
    ConsortiumSpec(
        "puget-lowlands", "Puget Lowlands Dual Credit Consortium", "PL", 50, L_, "B",
        (12, 1), (6, 15), (6, 20), (6, 25),
        (("Puget Lowlands College", "PLC"), ("Harborview Technical College", "HTC")),
        early_days=35,
    ),
    ConsortiumSpec(
        "blue-mountain", "Blue Mountain Career Connections", "BM", 40, PC, "80",
        (10, 15), (5, 31), (6, 5), (6, 18), (("Blue Mountain Community College", "BMCC"),),
    ),
    ConsortiumSpec(
        "skagit-delta", "Skagit Delta Tech Prep Consortium", "SD", 0, P_, "2.5",
        (9, 15), (6, 1), (6, 1), (6, 20), (("Skagit Delta College", "SDC"),),
    ),
    ConsortiumSpec(
        "chehalis-basin", "Chehalis Basin CTE Dual Credit", "CB", 30, L_, "C",
        (11, 15), (6, 10), (6, 15), (6, 22), (("Chehalis Basin Community College", "CBCC"),),
    ),
    ConsortiumSpec(
        "wenatchee-river", "Wenatchee River Career Pathways", "WR", 45, L_, "B",
        (12, 1), (6, 1), (6, 8), (6, 20), (("Wenatchee River College", "WRC"),),
    ),
    ConsortiumSpec(
        "kitsap-sound", "Kitsap Sound Tech Prep Consortium", "KS", 0, L_, "C+",
        (10, 1), (6, 15), (6, 15), (6, 25), (("Kitsap Sound College", "KSC"),),
    ),
)
# fmt: on
ALL_SLUGS = tuple(spec.slug for spec in CONSORTIA)
DEFAULT_WAIVERS = "Free or reduced-price lunch\nFinancial hardship\nFoster youth"


@dataclass(frozen=True)
class CourseTemplate:
    title: str
    cip: str
    cluster: str
    courses: tuple[tuple[str, str, str, str], ...]  # prefix, number, title, credits
    competencies: str
    trade: bool = False  # taught at skills centers


def _t(title, cip, cluster, courses, competencies, trade=False):
    return CourseTemplate(title, cip, cluster, tuple(courses), competencies, trade)


# fmt: off
TEMPLATES: tuple[CourseTemplate, ...] = (
    _t("Accounting 1", "52.0302", "FN", [("ACCT", "101", "Practical Accounting I", "5.0")],
       "Journalize and post business transactions\nPrepare a trial balance\n"
       "Prepare financial statements\nReconcile a bank statement"),
    _t("Accounting 2", "52.0302", "FN", [("ACCT", "102", "Practical Accounting II", "5.0")],
       "Account for payroll and payroll taxes\nApply depreciation methods\n"
       "Use accounting software for a complete cycle"),
    _t("Business Computer Applications", "11.0601", "BM",
       [("BTEC", "105", "Computer Applications", "5.0")],
       "Create business documents with a word processor\nBuild spreadsheets with formulas\n"
       "Design a presentation\nManage files and folders"),
    _t("Business Management", "52.0201", "BM", [("BUS", "101", "Introduction to Business", "5.0")],
       "Describe forms of business ownership\nExplain management functions\n"
       "Write a simple business plan"),
    _t("Marketing 1", "52.1401", "MK", [("MKTG", "101", "Principles of Marketing", "5.0")],
       "Explain the marketing mix\nSegment a target market\nAnalyze a promotional campaign"),
    _t("Retail Merchandising", "52.1803", "MK", [("MKTG", "135", "Retail Merchandising", "3.0")],
       "Plan a visual merchandise display\nCalculate markup and markdown\n"
       "Manage inventory in a school store"),
    _t("Financial Literacy", "52.0801", "FN", [("BUS", "110", "Personal Finance", "3.0")],
       "Build a personal budget\nCompare credit and loan options\nExplain saving and investing"),
    _t("Computer Programming", "11.0201", "IT",
       [("CS", "141", "Programming Fundamentals", "5.0")],
       "Write programs with variables, loops and functions\nDebug and test code\n"
       "Use lists and dictionaries\nDocument a program"),
    _t("Web Design", "11.0801", "IT", [("IT", "115", "Web Page Design", "5.0")],
       "Build pages with semantic HTML\nStyle pages with CSS\nMeet accessibility guidelines"),
    _t("Network Technology", "11.0901", "IT", [("NET", "101", "Networking Fundamentals", "5.0")],
       "Explain the OSI and TCP/IP models\nConfigure a small network\n"
       "Subnet an IPv4 address space"),
    _t("Cybersecurity Foundations", "11.1003", "IT",
       [("CYB", "110", "Introduction to Cybersecurity", "5.0")],
       "Identify common threats and vulnerabilities\nHarden an operating system\n"
       "Explain authentication and encryption"),
    _t("Graphic Design", "50.0409", "AR", [("ART", "150", "Graphic Design I", "5.0")],
       "Apply design principles to layouts\nUse vector and raster software\n"
       "Prepare files for print and web"),
    _t("Digital Photography", "50.0605", "AR", [("PHOT", "101", "Digital Photography", "3.0")],
       "Control exposure manually\nCompose images with intent\nEdit and catalog photographs"),
    _t("Video Production", "10.0202", "AR", [("DMA", "120", "Video Production", "5.0")],
       "Write a script and storyboard\nRecord video and audio\nEdit a short production"),
    _t("Engineering Design (CAD)", "15.1301", "ST",
       [("ENGT", "110", "Engineering Graphics (CAD)", "5.0")],
       "Create orthographic and isometric drawings\nModel parts in 3D CAD\n"
       "Dimension drawings to standard"),
    _t("Principles of Engineering", "14.0101", "ST",
       [("ENGR", "100", "Introduction to Engineering", "3.0")],
       "Apply the engineering design process\nAnalyze simple mechanisms\n"
       "Present a design solution"),
    _t("Architectural Drafting", "15.1303", "AC",
       [("ARCH", "110", "Architectural Drafting", "5.0")],
       "Draw a residential floor plan\nApply building codes\nProduce elevations and sections"),
    _t("Aviation Fundamentals", "49.0101", "TR", [("AVF", "100", "Aviation Fundamentals", "5.0")],
       "Explain principles of flight\nRead aviation weather reports\nPlan a cross-country flight"),
    _t("Hospitality and Tourism", "52.0901", "HT",
       [("HOSP", "101", "Introduction to Hospitality", "5.0")],
       "Describe the segments of the hospitality industry\nDeliver guest service\n"
       "Plan an event budget"),
    _t("Medical Terminology", "51.0000", "HS", [("HLTH", "110", "Medical Terminology", "5.0")],
       "Build medical terms from word parts\nUse body-system terminology\n"
       "Interpret common abbreviations"),
    _t("Sports Medicine", "51.0913", "HS",
       [("PE", "210", "Care and Prevention of Athletic Injuries", "3.0")],
       "Recognize common athletic injuries\nApply taping and wrapping techniques\n"
       "Explain emergency action plans"),
    _t("Early Childhood Education", "19.0709", "ED",
       [("ECED", "105", "Introduction to Early Childhood Education", "5.0")],
       "Describe stages of child development\nPlan an age-appropriate activity\n"
       "Keep children safe and healthy"),
    _t("Teaching Academy", "13.0101", "ED", [("EDUC", "115", "Introduction to Education", "5.0")],
       "Write a lesson plan\nObserve and reflect on teaching\nExplain learning theories"),
    _t("Criminal Justice", "43.0104", "LW",
       [("CJ", "101", "Introduction to Criminal Justice", "5.0")],
       "Describe the criminal justice system\nExplain constitutional rights\n"
       "Write an incident report"),
    _t("Animal Science", "01.0901", "AG", [("AGRI", "120", "Animal Science", "5.0")],
       "Explain animal nutrition and health\nIdentify livestock breeds\n"
       "Describe animal welfare practices"),
    _t("Horticulture", "01.0601", "AG", [("HORT", "101", "Introduction to Horticulture", "5.0")],
       "Propagate plants\nManage a greenhouse crop\nIdentify common landscape plants"),
    _t("Natural Resources", "03.0101", "AG",
       [("NRES", "101", "Natural Resources Management", "5.0")],
       "Measure forest stands\nMonitor water quality\nExplain watershed management"),
    _t("Human Services", "44.0000", "HU",
       [("HSER", "101", "Introduction to Human Services", "5.0")],
       "Describe community service agencies\nPractice active listening\n"
       "Explain ethics and confidentiality"),
    _t("Public Service Careers", "44.0401", "GV",
       [("PUBA", "101", "Introduction to Public Administration", "3.0")],
       "Explain how local government works\nAnalyze a public budget\nDraft a policy memo"),
    # Trades, usually at skills centers.
    _t("Construction Trades", "46.0000", "AC",
       [("CONST", "101", "Construction Fundamentals", "5.0")],
       "Use hand and power tools safely\nRead construction blueprints\nFrame a wall section",
       trade=True),
    _t("Welding Technology", "48.0508", "MN", [("WELD", "101", "Welding Fundamentals", "5.0")],
       "Weld with SMAW in flat and horizontal positions\nCut with oxy-fuel\n"
       "Follow welding safety procedures", trade=True),
    _t("Precision Machining", "48.0501", "MN", [("MACH", "101", "Machining Fundamentals", "5.0")],
       "Set up and run a lathe\nSet up and run a mill\nMeasure parts with precision instruments",
       trade=True),
    _t("Automotive Technology", "47.0604", "TR",
       [("AUTO", "101", "Automotive Fundamentals", "5.0"), ("AUTO", "110", "Brake Systems", "5.0")],
       "Perform a vehicle inspection\nService brake systems\nDiagnose electrical faults",
       trade=True),
    _t("Diesel Technology", "47.0605", "TR", [("DSL", "101", "Diesel Engine Fundamentals", "5.0")],
       "Explain diesel engine operation\nService fuel systems\nPerform preventive maintenance",
       trade=True),
    _t("Culinary Arts", "12.0500", "HT",
       [("CUL", "101", "Culinary Fundamentals", "5.0"),
        ("CUL", "105", "Food Safety and Sanitation", "2.0")],
       "Apply knife skills\nPrepare stocks, soups and sauces\nFollow food safety rules",
       trade=True),
    _t("Nursing Assistant", "51.3902", "HS", [("NAC", "101", "Nursing Assistant Certified", "7.0")],
       "Take and record vital signs\nProvide personal care safely\nFollow infection control",
       trade=True),
    _t("Emergency Medical Responder", "51.0904", "HS",
       [("EMS", "100", "Emergency Medical Responder", "4.0")],
       "Assess a patient\nPerform CPR and first aid\nManage a scene safely", trade=True),
    _t("Fire Science", "43.0203", "LW", [("FIRE", "101", "Introduction to Fire Science", "5.0")],
       "Explain fire behavior\nUse fire protective equipment\nDescribe fire service operations",
       trade=True),
    _t("Cosmetology", "12.0401", "HU", [("COSM", "101", "Cosmetology Fundamentals", "10.0")],
       "Apply sanitation and infection control\nPerform basic hair services\n"
       "Explain state licensing rules", trade=True),
)
# fmt: on
REGULAR_TEMPLATES = tuple(t for t in TEMPLATES if not t.trade)
TRADE_TEMPLATES = tuple(t for t in TEMPLATES if t.trade)
