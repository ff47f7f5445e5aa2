//! The lesson configs the playground offers, compiled into the binary so that `squiggle
//! serve` works from any folder: the same files as `configs/`.

/// One lesson config.
pub struct Preset {
    /// Its file name without `.toml`, as the API names it.
    pub name: &'static str,
    /// The file's text.
    pub text: &'static str,
    /// The data files it reads (path relative to `configs/`, text), compiled in with it.
    pub files: &'static [(&'static str, &'static str)],
}

macro_rules! presets {
    ($($name:literal $(reads [$($file:literal),+])?),* $(,)?) => {
        /// Every lesson config, in the order of the series.
        pub const PRESETS: &[Preset] = &[$(Preset {
            name: $name,
            text: include_str!(concat!("../../../configs/", $name, ".toml")),
            files: &[$($(($file, include_str!(concat!("../../../configs/", $file)))),+)?],
        }),*];
    };
}

presets!(
    "statquest-pt1",
    "statquest-pt2",
    "statquest-pt2-adam",
    "statquest-details-pt1",
    "statquest-details-pt2",
    "gradient-descent",
    "statquest-pt4-iris" reads ["data/iris.csv"],
    "statquest-pt7-cross-entropy",
);

/// The preset the playground opens on.
pub const DEFAULT: &str = "statquest-pt2";

/// The preset the playground opens on ([`DEFAULT`]).
pub fn default_preset() -> &'static Preset {
    Preset::find(DEFAULT).expect("the default is a preset")
}

impl Preset {
    /// The preset called `name`.
    pub fn find(name: &str) -> Option<&'static Preset> {
        PRESETS.iter().find(|p| p.name == name)
    }

    /// Where messages about it point: the file it was compiled from.
    pub fn path(&self) -> std::path::PathBuf {
        format!("configs/{}.toml", self.name).into()
    }

    /// The lesson's title: the first comment of the file, its StatQuest quotation marks
    /// removed.
    pub fn title(&self) -> String {
        let mut title = String::new();
        for line in self.text.lines() {
            let Some(text) = line.strip_prefix('#') else {
                break;
            };
            let text = text.trim();
            if text.is_empty() {
                break;
            }
            if !title.is_empty() {
                title.push(' ');
            }
            title.push_str(text);
            if text.ends_with('.') || text.ends_with(':') || text.ends_with('"') {
                break;
            }
        }
        let title = title.trim_end_matches(['.', ':']).replace("StatQuest ", "");
        title.replace('"', "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_config_is_a_preset_with_a_title() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Some(text) = path
                .extension()
                .is_some_and(|e| e == "toml")
                .then(|| std::fs::read_to_string(&path).unwrap())
            else {
                continue;
            };
            // Every config of the lessons' three points is offered; the classifiers of the
            // series' later parts have two inputs, which the playground does not draw.
            let classifier = text.contains("loss = \"cross_entropy\"");
            if (text.contains("points = [[0.0, 0.0], [0.5, 1.0], [1.0, 0.0]]")
                || text.contains("StatQuest"))
                && !classifier
            {
                let name = path.file_stem().unwrap().to_str().unwrap();
                let preset = Preset::find(name).unwrap_or_else(|| panic!("{name} is no preset"));
                assert_eq!(preset.text, text);
            }
        }
        let pt2 = Preset::find("statquest-pt2").unwrap();
        assert_eq!(
            pt2.title(),
            "Neural Networks Pt. 2: Backpropagation Main Ideas"
        );
        assert!(PRESETS.iter().all(|p| !p.title().is_empty()));
    }
}
