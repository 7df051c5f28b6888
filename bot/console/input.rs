//! What one console input line asks for: a command, a numbered choice, a
//! console meta-command (`:as USER [GROUP ...]`), or nothing.

use opsbot_commands::values::SlackUserId;

#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Skip,
    Quit,
    Command(&'a str),
    /// A number alone: press that choice.
    Press(usize),
    /// `:as USER [GROUP ...]`: who types from now on, or why not.
    As(Result<(SlackUserId, Vec<String>), String>),
    /// A meta-command the console does not know, with what it does know.
    Unknown(String),
}

const META_HELP: &str = "`:as USER [GROUP ...]` switches who is typing, e.g. `:as U0LEAD1 S0RELEASE`.";

pub fn classify(line: &str) -> Line<'_> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Line::Skip;
    }
    if let Some(meta) = line.strip_prefix(':') {
        return meta_command(meta);
    }
    if let Ok(number) = line.parse::<usize>() {
        return Line::Press(number);
    }
    let text = match line.strip_prefix("/ops") {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest.trim_start(),
        _ => line,
    };
    if text.eq_ignore_ascii_case("quit") || text.eq_ignore_ascii_case("exit") {
        return Line::Quit;
    }
    Line::Command(text)
}

fn meta_command(meta: &str) -> Line<'static> {
    let mut words = meta.split_whitespace();
    match words.next() {
        Some("as") => {
            let Some(user) = words.next() else { return Line::As(Err(format!("Whom? {META_HELP}"))) };
            match SlackUserId::parse(user) {
                Ok(id) => Line::As(Ok((id, words.map(str::to_owned).collect()))),
                Err(err) => Line::As(Err(format!("{err}. {META_HELP}"))),
            }
        }
        other => Line::Unknown(format!("Unknown console command `:{}`. {META_HELP}", other.unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_commands_comments_blanks_or_quit() {
        assert_eq!(classify("  pipelines "), Line::Command("pipelines"));
        assert_eq!(classify("/ops service prod/api"), Line::Command("service prod/api"));
        assert_eq!(classify("/ops"), Line::Command(""));
        assert_eq!(classify("/opsy"), Line::Command("/opsy"));
        assert_eq!(classify("# a comment"), Line::Skip);
        assert_eq!(classify("   "), Line::Skip);
        assert_eq!(classify("QUIT"), Line::Quit);
        assert_eq!(classify("/ops exit"), Line::Quit);
    }

    #[test]
    fn a_number_alone_presses_a_choice() {
        assert_eq!(classify(" 2 "), Line::Press(2));
        assert_eq!(classify("scale staging/api 2"), Line::Command("scale staging/api 2"));
    }

    #[test]
    fn as_switches_the_user_and_their_groups() {
        let Line::As(Ok((id, groups))) = classify(":as U0LEAD1 S0RELEASE") else { panic!() };
        assert_eq!((id.as_str(), groups), ("U0LEAD1", vec!["S0RELEASE".to_owned()]));
        assert!(matches!(classify(":as"), Line::As(Err(why)) if why.contains(":as USER")));
        assert!(matches!(classify(":as not a user!"), Line::As(Err(_))));
        assert!(matches!(classify(":become U1"), Line::Unknown(why) if why.contains(":as USER")));
    }
}
