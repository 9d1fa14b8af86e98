; Inno Setup script: a per-user Windows installer of the one-folder bundle.
; Built by .github/workflows/release.yml on windows-latest; not run on a developer machine.
; Build the bundle and the icon first, then, from the repository root:
;   iscc /DAppVersion=0.1.0 packaging\windows\pgwatch-gui.iss
; (paths below are relative to this file; /DBundleDir=, /DOutputDir= and /DIconFile=
; override them). Uninstall from Settings > Apps: it removes everything it installed.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\pgwatch-gui"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\pyinstaller\icons\pgwatch-gui.ico"
#endif
#define AppName "pgwatch-gui"

[Setup]
AppId={{6F0D2C1E-5B7A-4C55-9E0B-8A4F1D2C7E31}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=pgwatch-gui developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\pgwatch-gui.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\pgwatch-gui.exe"
Name: "{group}\{#AppName} demo"; Filename: "{app}\pgwatch-gui.exe"; Parameters: "--demo"
Name: "{group}\{#AppName} command line"; Filename: "{cmd}"; \
    Parameters: "/k pgwatch-gui-cli.exe --help"; WorkingDir: "{app}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\pgwatch-gui.exe"; Tasks: desktopicon

[Tasks]
Name: desktopicon; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\pgwatch-gui.exe"; Parameters: "--demo"; Description: "Open the demo now"; \
    Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Files the app may have written next to itself (none expected; the user's data lives in
; %LOCALAPPDATA%\pgwatch-gui and is kept).
Type: filesandordirs; Name: "{app}"
