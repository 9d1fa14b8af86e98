; Inno Setup script for a per-user Windows installer of the one-folder bundle.
; NOT TESTED: a sketch for whoever builds on Windows (see packaging/README.md).
; Build the bundle first (dist\pgwatch-gui\), then: iscc packaging\windows\pgwatch-gui.iss

#define AppName "pgwatch-gui"
#define AppVersion "0.1.0"
#define BundleDir "..\..\dist\pgwatch-gui"

[Setup]
AppId={{6F0D2C1E-5B7A-4C55-9E0B-8A4F1D2C7E31}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=pgwatch-gui developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible
; SetupIconFile=pgwatch-gui.ico   ; make one from pgwatch_gui\resources\pgwatch-gui.png

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\pgwatch-gui.exe"
Name: "{group}\{#AppName} demo"; Filename: "{app}\pgwatch-gui.exe"; Parameters: "--demo"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\pgwatch-gui.exe"; Tasks: desktopicon

[Tasks]
Name: desktopicon; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\pgwatch-gui.exe"; Parameters: "--demo"; Description: "Open the demo now"; \
    Flags: nowait postinstall skipifsilent
