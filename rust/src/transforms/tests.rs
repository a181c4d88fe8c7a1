//! Accuracy tests of the transform kernels against independent references.

use super::logicle::STEPS;
use super::*;

// (kind, T, W, M, A, x, y): y computed with mpmath at 60 digits (d and the roots by
// bisection on the exact Gating-ML formulas, reflected below x1), rounded to the nearest f64.
#[rustfmt::skip]
const GOLDEN: &[(&str, f64, f64, f64, f64, f64, f64)] = &[
    ("logicle", 10000.0, 0.5, 4.5, 0.0, -1000000.0, -1.222261742854851),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, -10000.0, -0.7777777777777778),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, -100.0, -0.3299144770406431),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, -1.0, 0.0819427622888494),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, -0.001, 0.11108173965711675),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 1e-09, 0.11111111114048257),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 0.001, 0.11114048256510548),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 0.5, 0.12577163752246945),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 1.0, 0.14027945993337282),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 10.0, 0.3104958106999837),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 100.0, 0.5521366992628653),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 1000.0, 0.7774334119345347),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 10000.0, 1.0),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 100000.0, 1.2222581007202409),
    ("logicle", 10000.0, 0.5, 4.5, 0.0, 10000000.0, 1.6667065535151164),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, -1000000.0, -0.7790156358737319),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, -10000.0, -0.3333333333333333),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, -100.0, 0.1711770654953605),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, -1.0, 0.3314416125134491),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, -0.001, 0.333331441583343),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 1e-09, 0.3333333333352251),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 0.001, 0.33333522508332364),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 0.5, 0.33427920468888395),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 1.0, 0.33522505415321757),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 10.0, 0.3522207859381997),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 100.0, 0.49548960117130614),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 1000.0, 0.7684868008430407),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 10000.0, 1.0),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 100000.0, 1.2233366622577724),
    ("logicle", 10000.0, 1.0, 4.0, 0.5, 10000000.0, 1.6679175828036956),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, -1000000.0, -1.1292133505875308),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, -10000.0, -0.6847689724574739),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, -100.0, -0.24098093879720717),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, -1.0, -0.0058175336542104225),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, -0.001, -5.8210573656335835e-06),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 1e-09, 5.821057369163064e-12),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 0.001, 5.8210573656335835e-06),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 0.5, 0.002910087679980026),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 1.0, 0.0058175336542104225),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 10.0, 0.0551582725465344),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 100.0, 0.24098093879720717),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 1000.0, 0.462553315339505),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 10000.0, 0.6847689724574739),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 100000.0, 0.9069911290218873),
    ("logicle", 262144.0, 0.0, 4.5, 0.0, 10000000.0, 1.3514355728031873),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, -1000000.0, -0.15143466775881714),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, -10000.0, 0.44600015869248405),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, -100.0, 0.4994579460124018),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, -1.0, 0.4999945794583093),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, -0.001, 0.4999999945794583),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 1e-09, 0.5000000000000054),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 0.001, 0.5000000054205417),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 0.5, 0.5000027102708454),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 1.0, 0.5000054205416907),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 10.0, 0.5000542054167276),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 100.0, 0.5005420539875982),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 1000.0, 0.5054203580467279),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 10000.0, 0.553999841307516),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 100000.0, 0.8618215123499924),
    ("logicle", 262144.0, 2.25, 4.5, 0.0, 10000000.0, 1.3817283679532393),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, -1000000.0, -0.29389331992258727),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, -10000.0, -7.778769097326426e-62),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, -100.0, 0.4633547790620398),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, -1.0, 0.4996331352957377),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, -0.001, 0.49999963313526014),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 1e-09, 0.5000000000003668),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 0.001, 0.5000003668647399),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 0.5, 0.5001834323654866),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 1.0, 0.5003668647042623),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 10.0, 0.5036686113224914),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 100.0, 0.5366452209379602),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 1000.0, 0.7840679355548816),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 10000.0, 1.0),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 100000.0, 1.1501562700346375),
    ("logicle", 10000.0, 3.5, 7.0, 0.0, 10000000.0, 1.4368555958840068),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, -1000000.0, -0.4010286509262624),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, -10000.0, 3.8893845486632136e-62),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, -100.0, 0.42098245972697074),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, -1.0, 0.49915436062459817),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, -0.001, 0.49999915435477577),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 1e-09, 0.5000000000008457),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 0.001, 0.5000008456452242),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 0.5, 0.5004228218814966),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 1.0, 0.5008456393754018),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 10.0, 0.5084505416725338),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 100.0, 0.5790175402730293),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 1000.0, 0.7923987145547057),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 10000.0, 1.0),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 100000.0, 1.2009292426095863),
    ("logicle", 10000.0, 0.5, 3.0, 2.0, 10000000.0, 1.6010388404230278),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, -1000000.0, -1.5001552605561386),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, -10000.0, -1.0),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, -100.0, -0.48817190155956974),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, -1.0, -0.02100554164203271),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, -0.001, -2.1038184495352993e-05),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 1e-09, 2.1038184526938408e-11),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 0.001, 2.1038184495352993e-05),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 0.5, 0.010515074643982379),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 1.0, 0.02100554164203271),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 10.0, 0.18087250402096106),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 100.0, 0.48817190155956974),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 1000.0, 0.7487325707461494),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 10000.0, 1.0),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 100000.0, 1.2501404029638947),
    ("logicle", 10000.0, 1.0, 5.0, -1.0, 10000000.0, 1.750156793783084),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, -1000000.0, -1.290708822704941),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, -10000.0, -0.3042932705077223),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, -100.0, -0.0041405756274702134),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, -1.0, -4.091326609754414e-05),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, -0.001, 4.585867336514076e-07),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 1e-09, 5.000000414132663e-07),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 0.001, 5.414132663485924e-07),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 0.5, 2.1206633142915243e-05),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 1.0, 4.191326609754414e-05),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 10.0, 0.00041463241243786897),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 100.0, 0.004141575627470214),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 1000.0, 0.04116674006923901),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 10000.0, 0.30429427050772234),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 100000.0, 0.7908574078640793),
    ("logicle", 262144.0, 1e-06, 2.0, 0.0, 10000000.0, 1.7907083474484715),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, -1000000.0, -1.2514072806541576),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, -10000.0, -0.7512537450399939),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, -100.0, -0.2395476509484207),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, -1.0, 0.22875161581952533),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, -0.001, 0.2499787178126412),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 1e-09, 0.2500000000212822),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 0.001, 0.2500212821873588),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 0.5, 0.2606369338626358),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 1.0, 0.27124838418047464),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 10.0, 0.4324258013177194),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 100.0, 0.7395476509484207),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 1000.0, 1.0),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 10000.0, 1.2512537450399939),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 100000.0, 1.5013925903579484),
    ("logicle", 1000.0, 1.0, 4.0, 0.0, 10000000.0, 2.0014087964785134),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, -1000000.0, -1.8737111917680136),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, -10000.0, -1.3003125400692748),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, -100.0, -0.5681358711097632),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, -1.0, -0.007337222644982889),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, -0.001, -7.337294797293675e-06),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 1e-09, 7.337294797364785e-12),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 0.001, 7.337294797293675e-06),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 0.5, 0.003668638445199456),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 1.0, 0.007337222644982889),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 10.0, 0.07329044187592043),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 100.0, 0.5681358711097632),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 1000.0, 1.0),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 10000.0, 1.3003125400692748),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 100000.0, 1.5877866398451745),
    ("logicle", 1000.0, 3.5, 7.0, -3.5, 10000000.0, 2.1594498937409923),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, -1000000.0, -1.9430111998868778),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, -10000.0, -1.3629459823256829),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, -100.0, -0.19871602707887398),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, -1.0, -0.001994559574260452),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, -0.001, -1.9946005025887115e-06),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 1e-09, 1.99460054334042e-12),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 0.001, 1.9946005025887115e-06),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 0.5, 0.000997290056647349),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 1.0, 0.001994559574260452),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 10.0, 0.01994170476702703),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 100.0, 0.19871602707887398),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 1000.0, 1.0),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 10000.0, 1.3629459823256829),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 100000.0, 1.6563856196014266),
    ("hyperlog", 1000.0, 3.5, 7.0, -3.5, 10000000.0, 2.228832262939227),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, -1000000.0, -1.0010157907814836),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, -10000.0, -0.5555555555555556),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, -100.0, -0.06670699255497342),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, -1.0, 0.21648137008129031),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, -0.001, 0.2222164488018986),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 1e-09, 0.22222222222799567),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 0.001, 0.22222799564254586),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 0.5, 0.22510083310417),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 1.0, 0.22796307436315413),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 10.0, 0.2764823881902607),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 100.0, 0.5111514369994179),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 1000.0, 0.7713707923942048),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 10000.0, 1.0),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 100000.0, 1.223121263707221),
    ("hyperlog", 10000.0, 1.0, 4.5, 0.0, 10000000.0, 1.667696843774901),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, -1000000.0, -1.4993679037523215),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, -10000.0, -0.995),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, -100.0, -0.2281912566180985),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, -1.0, 6.834654962488509e-05),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, -0.001, 0.0024975677434105567),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 1e-09, 0.002500000002432257),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 0.001, 0.0025024322565894434),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 0.5, 0.003715978186223561),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 1.0, 0.004931653450375115),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 10.0, 0.02675823380911605),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 100.0, 0.2331912566180985),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 1000.0, 0.7177636005525124),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 10000.0, 1.0),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 100000.0, 1.253886762287773),
    ("hyperlog", 10000.0, 0.01, 4.0, 0.0, 10000000.0, 1.754425745483093),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, -1000000.0, -0.5735409795590547),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, -10000.0, -7.778769097326426e-62),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, -100.0, 0.49050685703989105),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, -1.0, 0.4999048822534011),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, -0.001, 0.49999990488042045),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 1e-09, 0.5000000000000951),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 0.001, 0.5000000951195795),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 0.5, 0.500047559332057),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 1.0, 0.5000951177465989),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 10.0, 0.5009510119150882),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 100.0, 0.509493142960109),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 1000.0, 0.5927516566385009),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 10000.0, 1.0),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 100000.0, 1.3154882478221361),
    ("hyperlog", 10000.0, 2.0, 4.0, 0.0, 10000000.0, 1.8245691831824438),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, -1000000.0, -1.1292722267334305),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, -10000.0, -0.6833665840984544),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, -100.0, -0.19482707064837648),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, -1.0, -0.003096578530104745),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, -0.001, -3.109967122620198e-06),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 1e-09, 3.109980496667513e-12),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 0.001, 3.109967122620198e-06),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 0.5, 0.0015516432049535562),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 1.0, 0.003096578530104745),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 10.0, 0.02974079007757234),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 100.0, 0.19482707064837648),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 1000.0, 0.45263203349738124),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 10000.0, 0.6833665840984544),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 100000.0, 0.9068763760809618),
    ("hyperlog", 262144.0, 0.5, 5.0, -0.5, 10000000.0, 1.3515163487362365),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, -1000000.0, -1.2530976051281573),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, -10000.0, -0.7526904185492842),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, -100.0, -0.23187468651149154),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, -1.0, 0.22947679898718434),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, -0.001, 0.24997909013743524),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 1e-09, 0.2500000000209102),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 0.001, 0.25002090986256476),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 0.5, 0.26035960409637304),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 1.0, 0.27052320101281563),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 10.0, 0.41644594219502734),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 100.0, 0.7318746865114916),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 1000.0, 1.0),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 10000.0, 1.2526904185492842),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 100000.0, 1.5030520007800987),
    ("hyperlog", 1000.0, 1.0, 4.0, 0.0, 10000000.0, 2.0031031143337885),
];

fn build(kind: &str, t: f64, w: f64, m: f64, a: f64) -> Box<dyn Transform> {
    let spec = match kind {
        "logicle" => TransformSpec::Logicle { t, w, m, a },
        _ => TransformSpec::Hyperlog { t, w, m, a },
    };
    spec.build().unwrap()
}

#[test]
fn golden_values_to_full_precision() {
    let mut worst = 0f64;
    for &(kind, t, w, m, a, x, y) in GOLDEN {
        let tr = build(kind, t, w, m, a);
        let got = tr.apply(x);
        // Relative, plus a few ulps of x1 and of h = y − x1: y = x1 − h cancels
        // when a negative x lands near y = 0.
        let x1 = (w + a) / (m + a);
        let err = (got - y).abs();
        let tol = 2e-14 * y.abs() + 8.0 * f64::EPSILON * (x1.abs() + (y - x1).abs());
        worst = worst.max(err / tol);
        assert!(err <= tol, "{kind}({t},{w},{m},{a}) at {x}: {got} vs {y}");
    }
    println!("golden: worst error / tolerance {worst:.3}");
}

/// The literal Gating-ML B(y) (or EH(y)), in f64, reflected below x1.
struct Reference {
    x1: f64,
    f: Box<dyn Fn(f64) -> f64>,
}

impl Reference {
    fn new(kind: &str, t: f64, w: f64, m: f64, a: f64) -> Self {
        let ln10 = std::f64::consts::LN_10;
        let (w, x2) = (w / (m + a), a / (m + a));
        let (x1, x0, b) = (x2 + w, x2 + 2.0 * w, (m + a) * ln10);
        let f: Box<dyn Fn(f64) -> f64> = if kind == "logicle" {
            let d = bisect(1e-300, b, 200, |d| 2.0 * (d.ln() - b.ln()) + w * (b + d));
            let ca = (x0 * (b + d)).exp();
            let mfa = (b * x1).exp() - ca * (-d * x1).exp();
            let aa = t / ((b.exp() - mfa) - ca * (-d).exp());
            let (c, f) = (ca * aa, -mfa * aa);
            Box::new(move |y: f64| aa * (b * y).exp() - c * (-d * y).exp() + f)
        } else {
            let ca = (b * x0).exp() / w;
            let fa = (b * x1).exp() + ca * x1;
            let aa = t / (b.exp() + ca - fa);
            let (c, f) = (ca * aa, fa * aa);
            Box::new(move |y: f64| aa * (b * y).exp() + c * y - f)
        };
        Self { x1, f }
    }
    fn inverse(&self, y: f64) -> f64 {
        if y >= self.x1 {
            (self.f)(y)
        } else {
            -(self.f)(2.0 * self.x1 - y)
        }
    }
    fn apply(&self, x: f64) -> f64 {
        bisect(-12.0, 12.0, 200, |y| self.inverse(y) - x)
    }
}

/// Root of an increasing `g` in [lo, hi] by plain bisection.
fn bisect(mut lo: f64, mut hi: f64, n: usize, g: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..n {
        let mid = 0.5 * (lo + hi);
        if g(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Data values from −1e3·T to 1e3·T, dense near zero (down to 1e-12).
fn data_grid(t: f64) -> Vec<f64> {
    let mut xs = vec![0.0, t, -t, 10.0 * t, -10.0 * t];
    let mut v = 1e-12;
    while v < 1e3 * t {
        xs.push(v);
        xs.push(-v);
        v *= 1.7;
    }
    xs.sort_by(f64::total_cmp);
    xs
}

/// Valid (W, M, A) triples spanning the extremes: W from 0 to M/2, M 2..7, A −W..2.
fn extreme_params(hyperlog: bool) -> Vec<(f64, f64, f64)> {
    let mut out = vec![];
    for m in [2.0, 3.0, 4.5, 5.5, 7.0] {
        let half = m / 2.0;
        for w in [0.0, 1e-6, 0.01, 0.5, 1.0, half * (1.0 - 1e-9), half] {
            if hyperlog && w == 0.0 {
                continue;
            }
            for a in [-w, 0.0, 0.5, 1.0, 2.0] {
                if a <= m - 2.0 * w && w <= half {
                    out.push((w, m, a));
                }
            }
        }
    }
    out
}

#[test]
fn apply_matches_bisection_reference_on_extreme_grids() {
    let mut worst = 0f64;
    for kind in ["logicle", "hyperlog"] {
        for (w, m, a) in extreme_params(kind == "hyperlog") {
            for t in [1000.0, 262144.0] {
                let tr = build(kind, t, w, m, a);
                let r = Reference::new(kind, t, w, m, a);
                for x in data_grid(t) {
                    let (got, want) = (tr.apply(x), r.apply(x));
                    let err = (got - want).abs();
                    worst = worst.max(err / want.abs().max(1e-3));
                    assert!(
                        err <= 1e-9 * want.abs() + 1e-12,
                        "{kind}(T={t}, W={w}, M={m}, A={a}) at {x}: {got} vs {want}"
                    );
                }
            }
        }
    }
    println!("bisection reference: worst relative difference {worst:.2e}");
}

/// x → y → x to 1e-9 relative, with an absolute floor of a few ulps of y
/// times the slope at data zero (the resolution of y itself near zero).
fn check_roundtrip(name: &str, tr: &dyn Transform, x1: f64, t: f64) {
    let slope = (tr.inverse(x1 + 1e-7) - tr.inverse(x1 - 1e-7)) / 2e-7;
    let floor = 64.0 * f64::EPSILON * (x1.abs() + 1.0) * slope;
    assert!(floor < 1e-13 * t, "{name}: floor {floor}");
    let grid = data_grid(t);
    let (mut prev_x, mut prev) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for x in grid {
        let y = tr.apply(x);
        // Strictly increasing wherever y can resolve the step (slope at zero is the largest).
        let resolvable = (x - prev_x) / slope > 4.0 * f64::EPSILON * (y.abs() + 1.0);
        assert!(
            y >= prev && (y > prev || !resolvable),
            "{name}: not increasing at {x}"
        );
        (prev_x, prev) = (x, y);
        let back = tr.inverse(y);
        assert!(
            (back - x).abs() <= 1e-9 * x.abs() + floor,
            "{name}: {x} -> {y} -> {back}"
        );
    }
}

#[test]
fn roundtrip_and_monotone_on_extreme_grids() {
    for kind in ["logicle", "hyperlog"] {
        for (w, m, a) in extreme_params(kind == "hyperlog") {
            let t = 262144.0;
            let tr = build(kind, t, w, m, a);
            let name = format!("{kind}({t},{w},{m},{a})");
            check_roundtrip(&name, tr.as_ref(), (w + a) / (m + a), t);
        }
    }
    for wb in [-1.0, -1.5, -10.0, -100.0, -1000.0] {
        for neg in [0.0, 0.5, 1.0, 2.0] {
            let spec = TransformSpec::FlowJoBiex {
                width_basis: wb,
                negative_decades: neg,
                positive_decades: 4.41854,
                max_value: 262144.0,
            };
            let tr = FlowJoBiex::new(wb, neg, 4.41854, 262144.0).unwrap();
            let x1 = tr.zero_point();
            check_roundtrip(&format!("{spec:?}"), &tr, x1, 262144.0);
        }
    }
}

#[test]
fn compliance_suite_parameters() {
    let suite = [
        ("logicle", 10000.0, 0.5, 4.5, 0.0),
        ("logicle", 10000.0, 1.0, 4.0, 0.5),
        ("hyperlog", 10000.0, 1.0, 4.5, 0.0),
    ];
    for (kind, t, w, m, a) in suite {
        let tr = build(kind, t, w, m, a);
        assert!((tr.apply(t) - 1.0).abs() < 1e-14, "{kind}: top of scale");
        assert!((tr.inverse(1.0) - t).abs() < 1e-10 * t);
        assert_eq!(tr.apply(0.0), (w + a) / (m + a), "{kind}: data zero");
        assert_eq!(tr.inverse((w + a) / (m + a)), 0.0);
        // Odd symmetry about x1.
        let x1 = (w + a) / (m + a);
        for x in [0.37, 12.0, 900.0, 2.5e4] {
            let (p, n) = (tr.apply(x), tr.apply(-x));
            assert!(((p - x1) - (x1 - n)).abs() < 1e-15, "{kind} at ±{x}");
        }
    }
    let fasinh = TransformSpec::Asinh {
        t: 10000.0,
        m: 4.0,
        a: 1.0,
    }
    .build()
    .unwrap();
    assert!((fasinh.apply(10000.0) - 1.0).abs() < 1e-15);
    let flin = TransformSpec::Linear {
        t: 10000.0,
        a: 500.0,
    }
    .build()
    .unwrap();
    assert_eq!(flin.apply(10000.0), 1.0);
    let flog = TransformSpec::Log { t: 10000.0, m: 5.0 }.build().unwrap();
    assert_eq!(flog.apply(10000.0), 1.0);
}

/// FlowUtils' own expected values (6 decimals) for T=1000, W=1, M=4, A=0.
#[test]
fn flowutils_known_values() {
    let xs = [-10.0, -5.0, -1.0, 0.0, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0];
    let logicle = [
        0.067574, 0.147986, 0.228752, 0.25, 0.256384, 0.271248, 0.312897, 0.432426, 0.739548, 1.0,
    ];
    let hyperlog = [
        0.08355406, 0.15586819, 0.2294768, 0.25, 0.25623887, 0.2705232, 0.30909185, 0.41644594,
        0.73187469, 1.0,
    ];
    let l = build("logicle", 1000.0, 1.0, 4.0, 0.0);
    let h = build("hyperlog", 1000.0, 1.0, 4.0, 0.0);
    for (i, &x) in xs.iter().enumerate() {
        assert!((l.apply(x) - logicle[i]).abs() < 1e-6, "logicle {x}");
        assert!((h.apply(x) - hyperlog[i]).abs() < 1e-6, "hyperlog {x}");
    }
}

#[test]
fn halley_usually_needs_one_step() {
    let tr = build("logicle", 262144.0, 0.5, 4.5, 0.0);
    let xs: Vec<f64> = (0..20000).map(|i| -2000.0 + 13.37 * i as f64).collect();
    // The guess table is built on the first forward transform: not counted.
    tr.apply(1.0);
    STEPS.with(|c| c.set(0));
    for &x in &xs {
        std::hint::black_box(tr.apply(x));
    }
    let per = STEPS.with(|c| c.get()) as f64 / xs.len() as f64;
    println!("logicle: {per:.3} Halley steps per value");
    assert!(per < 1.5, "{per} steps per value");
    let mut worst = 0usize;
    for kind in ["logicle", "hyperlog"] {
        for (w, m, a) in extreme_params(kind == "hyperlog") {
            let tr = build(kind, 262144.0, w, m, a);
            tr.apply(1.0);
            for x in data_grid(262144.0) {
                STEPS.with(|c| c.set(0));
                tr.apply(x);
                worst = worst.max(STEPS.with(|c| c.get()));
            }
        }
    }
    println!("worst case over the extreme grids: {worst} steps");
    assert!(worst <= 3, "{worst} steps");
}

#[test]
fn vanishing_w_tends_to_w_zero() {
    let w0 = build("logicle", 262144.0, 0.0, 4.5, 0.0);
    for w in [1e-300, 1e-15, 1e-12] {
        let tr = build("logicle", 262144.0, w, 4.5, 0.0);
        for x in [-1e5, -3.0, 1e-9, 0.7, 250.0, 262144.0] {
            let (a, b) = (tr.apply(x), w0.apply(x));
            assert!(
                (a - b).abs() <= 1e-10 * b.abs() + 1e-12,
                "W={w} at {x}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn non_finite_inputs() {
    let tr = build("logicle", 10000.0, 0.5, 4.5, 0.0);
    assert!(tr.apply(f64::NAN).is_nan());
    assert!(tr.inverse(f64::NAN).is_nan());
    assert_eq!(tr.apply(f64::INFINITY), f64::INFINITY);
    assert_eq!(tr.apply(f64::NEG_INFINITY), f64::NEG_INFINITY);
    assert_eq!(tr.inverse(f64::INFINITY), f64::INFINITY);
    // Huge but finite data stay finite and ordered.
    let (a, b) = (tr.apply(1e300), tr.apply(f64::MAX));
    assert!(a.is_finite() && b.is_finite() && b > a, "{a} {b}");
    assert!((tr.apply(-1e300) - (2.0 * tr.apply(0.0) - a)).abs() < 1e-12);
}

#[test]
fn validation_messages() {
    let bad = [
        (
            TransformSpec::Logicle {
                t: 0.0,
                w: 0.5,
                m: 4.5,
                a: 0.0,
            },
            "T must be > 0",
        ),
        (
            TransformSpec::Logicle {
                t: 1e4,
                w: 0.5,
                m: 0.0,
                a: 0.0,
            },
            "M must be > 0",
        ),
        (
            TransformSpec::Logicle {
                t: 1e4,
                w: -0.1,
                m: 4.5,
                a: 0.0,
            },
            "W must be >= 0",
        ),
        (
            TransformSpec::Logicle {
                t: 1e4,
                w: 2.3,
                m: 4.5,
                a: 0.0,
            },
            "W must be <= M/2",
        ),
        (
            TransformSpec::Logicle {
                t: 1e4,
                w: 0.5,
                m: 4.5,
                a: -0.6,
            },
            "A must be in",
        ),
        (
            TransformSpec::Logicle {
                t: 1e4,
                w: 0.5,
                m: 4.5,
                a: 3.6,
            },
            "A must be in",
        ),
        (
            TransformSpec::Logicle {
                t: f64::NAN,
                w: 0.5,
                m: 4.5,
                a: 0.0,
            },
            "T must be finite",
        ),
        (
            TransformSpec::Hyperlog {
                t: 1e4,
                w: 0.0,
                m: 4.5,
                a: 0.0,
            },
            "W must be > 0",
        ),
        (
            TransformSpec::Hyperlog {
                t: 1e4,
                w: 3.0,
                m: 4.5,
                a: 0.0,
            },
            "W must be <= M/2",
        ),
        (TransformSpec::Linear { t: -1.0, a: 0.0 }, "T must be > 0"),
        (TransformSpec::Log { t: 1e4, m: -5.0 }, "M must be > 0"),
        (
            TransformSpec::Asinh {
                t: 1e4,
                m: 4.0,
                a: -1.0,
            },
            "A must be >= 0",
        ),
        (
            TransformSpec::Arcsinh { cofactor: 0.0 },
            "cofactor must be > 0",
        ),
        (
            TransformSpec::Ratio {
                a: 1.0,
                b: 0.0,
                c: 0.0,
            },
            "two dimensions",
        ),
        (
            TransformSpec::FlowJoBiex {
                width_basis: 10.0,
                negative_decades: 0.0,
                positive_decades: 4.5,
                max_value: 262144.0,
            },
            "width basis must be <= -1",
        ),
    ];
    for (spec, want) in bad {
        match spec.build() {
            Err(crate::Error::InvalidArgument(msg)) => {
                assert!(msg.contains(want), "{spec:?}: {msg:?} lacks {want:?}")
            }
            Err(e) => panic!("{spec:?}: wrong error kind {e:?}"),
            Ok(t) => panic!("{spec:?} was accepted: {t:?}"),
        }
    }
    assert!(TransformSpec::Ratio {
        a: 1.0,
        b: 0.0,
        c: 0.0
    }
    .validate()
    .is_ok());
    assert!(TransformSpec::Ratio {
        a: f64::NAN,
        b: 0.0,
        c: 0.0
    }
    .validate()
    .is_err());
    // The edges themselves are valid.
    for spec in [
        TransformSpec::Logicle {
            t: 1e4,
            w: 0.0,
            m: 4.5,
            a: 0.0,
        },
        TransformSpec::Logicle {
            t: 1e4,
            w: 2.25,
            m: 4.5,
            a: 0.0,
        },
        TransformSpec::Logicle {
            t: 1e4,
            w: 0.5,
            m: 4.5,
            a: -0.5,
        },
        TransformSpec::Logicle {
            t: 1e4,
            w: 0.5,
            m: 4.5,
            a: 3.5,
        },
        TransformSpec::Hyperlog {
            t: 1e4,
            w: 2.25,
            m: 4.5,
            a: 0.0,
        },
    ] {
        assert!(spec.validate().is_ok(), "{spec:?}");
    }
}

#[test]
fn parallel_is_bit_identical_to_serial() {
    let n = 3 * PAR_CHUNK + 123;
    let xs: Vec<f64> = (0..n).map(|i| (i as f64 - 5000.0) * 7.77).collect();
    let specs = [
        TransformSpec::Logicle {
            t: 262144.0,
            w: 0.5,
            m: 4.5,
            a: 0.0,
        },
        TransformSpec::Hyperlog {
            t: 262144.0,
            w: 1.0,
            m: 4.5,
            a: 0.0,
        },
        TransformSpec::Asinh {
            t: 262144.0,
            m: 4.5,
            a: 1.0,
        },
        TransformSpec::Arcsinh { cofactor: 150.0 },
    ];
    for spec in specs {
        let tr = spec.build().unwrap();
        let (mut serial, mut par) = (vec![0.0; n], vec![0.0; n]);
        tr.apply_slice(&xs, &mut serial);
        apply_par(tr.as_ref(), &xs, &mut par).unwrap();
        assert!(serial
            .iter()
            .zip(&par)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        let (mut back_s, mut back_p) = (vec![0.0; n], vec![0.0; n]);
        tr.inverse_slice(&serial, &mut back_s);
        inverse_par(tr.as_ref(), &serial, &mut back_p).unwrap();
        assert!(back_s
            .iter()
            .zip(&back_p)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    let tr = TransformSpec::Arcsinh { cofactor: 5.0 }.build().unwrap();
    assert!(apply_par(tr.as_ref(), &[1.0, 2.0], &mut [0.0]).is_err());
}
